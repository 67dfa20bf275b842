#include "metric_lines_plot.h"

#include "plot_frame.h"
#include "qcustomplot_include.h"

#include <QVBoxLayout>

#include <cmath>

namespace widgets {

MetricLinesPlot::MetricLinesPlot(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 200, &m_title);
    m_plot->legend->setVisible(true);
    m_plot->xAxis->setLabel(tr("layer"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
}

void MetricLinesPlot::setSeries(const QString& title, const QString& metric, const QStringList& layers,
                                const QVector<MetricSeries>& series)
{
    m_plot->clearGraphs();
    m_title->setText(title);
    m_plot->yAxis->setLabel(metric);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < layers.size(); ++i)
        ticker->addTick(i, layers[i]);
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setTickLabelRotation(layers.size() > 8 ? 90 : 0);
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int s = 0; s < series.size(); ++s) {
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(series[s].name);
        graph->setPen(seriesPen(s, 1.5));
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
        QVector<double> x, y;
        for (int i = 0; i < series[s].values.size(); ++i) {
            x << i;
            y << series[s].values[i]; // NaN leaves a gap
            if (std::isfinite(series[s].values[i])) {
                lo = std::min(lo, series[s].values[i]);
                hi = std::max(hi, series[s].values[i]);
            }
        }
        graph->setData(x, y, true);
    }
    placeLegend(m_plot, static_cast<int>(series.size()));
    m_plot->xAxis->setRange(-0.5, std::max<double>(0.5, layers.size() - 0.5));
    if (lo <= hi)
        m_plot->yAxis->setRange(lo - 0.05 * (hi - lo + 1e-12), hi + 0.05 * (hi - lo + 1e-12));
    m_plot->replot();
}

QVector<double> MetricLinesPlot::plottedValues(int i) const
{
    return graphValues(m_plot, i);
}

} // namespace widgets
