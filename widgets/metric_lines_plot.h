#pragma once
// One line per run of a per-layer metric against the layer's position in the model
// (QCustomPlot): x = layer index with the layer names as tick labels, a legend entry per
// run. Plain data in; no I/O.

#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPTextElement;

namespace widgets {

struct MetricSeries {
    QString name;           ///< legend entry ("run 3: omniquant w2g64 mse+sw")
    QVector<double> values; ///< one per layer; NaN = missing
};

class MetricLinesPlot : public QWidget {
    Q_OBJECT
public:
    explicit MetricLinesPlot(QWidget* parent = nullptr);
    void setSeries(const QString& title, const QString& metric, const QStringList& layers,
                   const QVector<MetricSeries>& series);
    /// Plotted values of series `i` (tests).
    QVector<double> plottedValues(int i) const;
    QCustomPlot* plot() const { return m_plot; }

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
};

} // namespace widgets
