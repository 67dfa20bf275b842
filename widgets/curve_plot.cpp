#include "curve_plot.h"

#include "qcustomplot_include.h"

#include <QCheckBox>
#include <QVBoxLayout>

namespace widgets {

CurvePlot::CurvePlot(QWidget* parent) : QWidget(parent)
{
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumHeight(180);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->plotLayout()->insertRow(0);
    m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), font().pointSize(), QFont::Bold));
    m_plot->plotLayout()->addElement(0, 0, m_title);
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
    static const QColor palette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                                     QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b)};
    m_plot->clearGraphs();
    m_title->setText(title);
    m_plot->xAxis->setLabel(xLabel);
    m_plot->yAxis->setLabel(yLabel);
    for (int i = 0; i < curves.size(); ++i) {
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(curves[i].name);
        graph->setPen(QPen(palette[i % 6], 1.2));
        graph->setData(curves[i].x, curves[i].y, true);
    }
    m_plot->rescaleAxes();
    m_plot->replot();
}

void CurvePlot::setLogScale(bool logarithmic)
{
    if (m_logScale->isChecked() != logarithmic)
        m_logScale->setChecked(logarithmic);
    m_plot->yAxis->setScaleType(logarithmic ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (logarithmic)
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_plot->rescaleAxes();
    m_plot->replot();
}

int CurvePlot::curveCount() const
{
    return m_plot->graphCount();
}

QVector<double> CurvePlot::plottedValues(int curve) const
{
    QVector<double> values;
    if (curve < 0 || curve >= m_plot->graphCount())
        return values;
    const auto data = m_plot->graph(curve)->data();
    for (int k = 0; k < data->size(); ++k)
        values << data->at(k)->value;
    return values;
}

} // namespace widgets
