#include "histogram_plot.h"

#include <QCheckBox>
#include <QVBoxLayout>

#include "plot_frame.h"
#include "qcustomplot_include.h"

namespace widgets {

HistogramPlot::HistogramPlot(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 180, &m_title);
    const char* names[2] = {"full precision", "quantized"};
    for (int series = 0; series < 2; ++series) {
        QCPGraph* graph = m_plot->addGraph();
        graph->setName(tr(names[series]));
        graph->setLineStyle(QCPGraph::lsStepLeft);
        graph->setPen(QPen(seriesColor(series), 1.5));
    }
    m_plot->legend->setVisible(true);
    m_plot->yAxis->setLabel(tr("count"));
    m_logScale = new QCheckBox(tr("log scale"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_logScale);
    connect(m_logScale, &QCheckBox::toggled, this, &HistogramPlot::setLogScale);
}

void HistogramPlot::setHistograms(const QString& title, const QString& xLabel, double lo, double hi,
                                  const QVector<double>& fp, const QVector<double>& quantized)
{
    m_title->setText(title);
    m_plot->xAxis->setLabel(xLabel);
    const QVector<double>* series[2] = {&fp, &quantized};
    const int bins = static_cast<int>(fp.size());
    const double width = bins > 0 ? (hi - lo) / bins : 1.0;
    double top = 1.0;
    for (int s = 0; s < 2; ++s) {
        // A step line needs the right edge of the last bin too.
        QVector<double> x, y;
        for (int b = 0; b < bins; ++b) {
            x << lo + width * b;
            y << (*series[s])[b];
            top = std::max(top, (*series[s])[b]);
        }
        x << hi;
        y << (bins > 0 ? series[s]->back() : 0.0);
        m_plot->graph(s)->setData(x, y, true);
    }
    m_plot->xAxis->setRange(lo, hi);
    m_plot->yAxis->setRange(m_logScale->isChecked() ? 0.5 : 0.0, top * 1.05);
    m_plot->replot();
}

void HistogramPlot::setSeriesNames(const QString& first, const QString& second)
{
    m_plot->graph(0)->setName(first);
    m_plot->graph(1)->setName(second);
}

void HistogramPlot::clear(const QString& message)
{
    for (int s = 0; s < 2; ++s)
        m_plot->graph(s)->data()->clear();
    m_title->setText(message);
    m_plot->replot();
}

void HistogramPlot::setLogScale(bool logarithmic)
{
    if (m_logScale->isChecked() != logarithmic)
        m_logScale->setChecked(logarithmic);
    setLogarithmicY(m_plot, logarithmic);
    m_plot->yAxis->setRangeLower(logarithmic ? 0.5 : 0.0);
    m_plot->replot();
}

QVector<double> HistogramPlot::plottedCounts(int series) const
{
    QVector<double> counts = graphValues(m_plot, series);
    if (!counts.isEmpty())
        counts.removeLast(); // the last point repeats the last bin at the right edge
    return counts;
}

} // namespace widgets
