#pragma once
// One bar per category (QCustomPlot QCPBars), e.g. the SW distance per projection direction,
// with one bar highlighted (the direction on show). Plain data in; no I/O.

#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPTextElement;

namespace widgets {

class BarPlot : public QWidget {
    Q_OBJECT
public:
    explicit BarPlot(QWidget* parent = nullptr);
    void setBars(const QString& title, const QString& xLabel, const QString& yLabel, const QVector<double>& values);
    /// Draws bar `index` in the highlight colour (-1: none).
    void highlight(int index);
    QVector<double> plottedValues() const; ///< tests
    QCustomPlot* plot() const { return m_plot; }
    /// "index,value" rows with a header line.
    QString toCsv() const;

Q_SIGNALS:
    /// The user clicked bar `index`.
    void barClicked(int index);

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCPBars* m_bars = nullptr;
    QCPBars* m_highlight = nullptr;
    QVector<double> m_values;
};

} // namespace widgets
