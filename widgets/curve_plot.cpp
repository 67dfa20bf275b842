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
    m_plot->replot();
}

void CurvePlot::setLogScale(bool logarithmic)
{
    if (m_logScale->isChecked() != logarithmic)
        m_logScale->setChecked(logarithmic);
    setLogarithmicY(m_plot, logarithmic);
    m_plot->rescaleAxes();
    m_plot->replot();
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
