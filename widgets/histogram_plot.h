#pragma once
// Two histograms on shared bin edges, full precision vs quantized, drawn as step lines
// (QCustomPlot): title, axis labels, legend, log-y toggle, zoom and pan with the mouse.
// Plain data in; no I/O.

#include <QVector>
#include <QWidget>

class QCheckBox;
class QCPGraph;
class QCustomPlot;
class QCPTextElement;

namespace widgets {

class HistogramPlot : public QWidget {
    Q_OBJECT
public:
    explicit HistogramPlot(QWidget* parent = nullptr);

    /// Counts per bin of [lo, hi) split in fp.size() equal bins (fp and quantized the same size).
    void setHistograms(const QString& title, const QString& xLabel, double lo, double hi, const QVector<double>& fp,
                       const QVector<double>& quantized);
    /// Empty plot with a message in the title ("no diagnostics recorded").
    void clear(const QString& message);
    void setLogScale(bool logarithmic);
    /// Legend names of the two series ("full precision" and "quantized" unless set).
    void setSeriesNames(const QString& first, const QString& second);

    /// The plotted counts of series 0 (FP) or 1 (quantized), bin by bin, for tests.
    QVector<double> plottedCounts(int series) const;
    QCustomPlot* plot() const { return m_plot; }

private:
    QCustomPlot* m_plot = nullptr;
    QCheckBox* m_logScale = nullptr;
    QCPTextElement* m_title = nullptr;
};

} // namespace widgets
