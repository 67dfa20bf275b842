#include "curve_plot.h"

#include "plot_frame.h"
#include "qcustomplot_include.h"

#include <QCheckBox>
#include <QVBoxLayout>

namespace widgets {

CurvePlot::CurvePlot(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 180, &m_title);
    m_plot->legend->setVisible(true);
    m_logScale = new QCheckBox(tr("log scale"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_logScale);
    connect(m_logScale, &QCheckBox::toggled, this, &CurvePlot::setLogScale);
}

void CurvePlot::setCurves(const QString& title, const QString& xLabel, const QString& yLabel,
                          const QVector<Curve>& curves)
{
    m_plot->clearGraphs();
    m_title->setText(title);
    m_plot->xAxis->setLabel(xLabel);
    m_plot->yAxis->setLabel(yLabel);
    for (int i = 0; i < curves.size(); ++i) {
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(curves[i].name);
        graph->setPen(seriesPen(i, 1.2));
        graph->setData(curves[i].x, curves[i].y, true);
    }
    m_plot->legend->setVisible(!curves.isEmpty());
    placeLegend(m_plot, static_cast<int>(curves.size()));
    m_plot->rescaleAxes();
    if (m_strip)
        m_strip->axis(QCPAxis::atBottom)->setRange(m_plot->xAxis->range());
    m_plot->replot();
}

void CurvePlot::setLogScale(bool logarithmic)
{
    if (m_logScale->isChecked() != logarithmic)
        m_logScale->setChecked(logarithmic);
    setLogarithmicY(m_plot, logarithmic);
    m_plot->rescaleAxes();
    if (m_strip) // rescaleAxes fits the strip's x axis to its marks: keep it on the curves' range
        m_strip->axis(QCPAxis::atBottom)->setRange(m_plot->xAxis->range());
    m_plot->replot();
}

void CurvePlot::setMarkedPositions(const QString& label, const QVector<double>& positions)
{
    if (m_strip) {
        m_plot->removePlottable(m_marks);
        m_plot->plotLayout()->remove(m_strip); // deletes the rect and its axes
        m_plot->plotLayout()->simplify();
        m_strip = nullptr;
        m_marks = nullptr;
    }
    if (positions.isEmpty()) {
        m_plot->replot();
        return;
    }
    if (!m_margins) {
        m_margins = new QCPMarginGroup(m_plot);
        m_plot->axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, m_margins);
    }
    m_strip = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(m_plot->plotLayout()->rowCount(), 0, m_strip);
    m_strip->setMarginGroup(QCP::msLeft | QCP::msRight, m_margins);
    m_strip->setMinimumSize(0, 36);
    m_strip->setMaximumSize(QWIDGETSIZE_MAX, 36);
    QCPAxis* x = m_strip->axis(QCPAxis::atBottom);
    QCPAxis* y = m_strip->axis(QCPAxis::atLeft);
    y->setRange(0.0, 1.0);
    y->setTicks(false);
    y->setLabel(label);
    x->setTickLabels(false);
    x->setRange(m_plot->xAxis->range());
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), x,
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    m_marks = new QCPBars(x, y);
    m_marks->setWidth(1.0);
    m_marks->setPen(Qt::NoPen);
    m_marks->setBrush(seriesPen(2, 1.0).color());
    m_marks->setData(positions, QVector<double>(positions.size(), 1.0), true);
    m_marks->removeFromLegend(); // the strip's axis names it
    m_plot->replot();
}

int CurvePlot::markedPositionCount() const
{
    return m_marks ? m_marks->dataCount() : 0;
}

int CurvePlot::curveCount() const
{
    return m_plot->graphCount();
}

QVector<double> CurvePlot::plottedValues(int curve) const
{
    return graphValues(m_plot, curve);
}

} // namespace widgets
