#pragma once
// One bar per named category with a symmetric error bar (QCPBars + QCPErrorBars): a seed
// group's mean ± standard deviation of a metric. Plain data in; no I/O.

#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPErrorBars;
class QCPTextElement;

namespace widgets {

class ErrorBarPlot : public QWidget {
    Q_OBJECT
public:
    explicit ErrorBarPlot(QWidget* parent = nullptr);
    /// Bar i at `means[i]` with ± `errors[i]` (NaN: no bar), labelled `labels[i]` under the axis.
    void setBars(const QString& title, const QString& yLabel, const QStringList& labels, const QVector<double>& means,
                 const QVector<double>& errors);
    QCustomPlot* plot() const { return m_plot; }
    QVector<double> plottedErrors() const; ///< tests
    /// "label,mean,error" rows with a header line.
    QString toCsv() const;

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCPBars* m_bars = nullptr;
    QCPErrorBars* m_errors = nullptr;
    QStringList m_labels;
    QVector<double> m_means, m_errorValues;
};

} // namespace widgets
