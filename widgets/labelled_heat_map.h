#pragma once
// A heat map whose rows and columns are named (layers × metrics): a diverging colour scale
// centred on zero, so that "no change" is white and the sign of a change is its hue. Missing
// cells (NaN: a metric a layer does not have) stay transparent. Hovering names the cell.
// Plain data in; no I/O.

#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPTextElement;

namespace widgets {

class LabelledHeatMap : public QWidget {
    Q_OBJECT
public:
    explicit LabelledHeatMap(QWidget* parent = nullptr);
    /// `values` row-major [rows.size(), columns.size()]; the colour range is ±`limit`
    /// (values beyond it take the end colours, the hover text shows them exactly).
    void setMap(const QString& title, const QString& valueLabel, const QStringList& rows, const QStringList& columns,
                const QVector<double>& values, double limit);
    void clear(const QString& message);
    double cellValue(int row, int column) const;
    QStringList rowLabels() const { return m_rows; }
    QStringList columnLabels() const { return m_columns; }
    /// "row label · column label: value" for a point in plot coordinates (the hover text).
    QString describe(double x, double y) const;
    /// The map as CSV: a header of the column labels, then one line per row label.
    QString toCsv() const;
    QCustomPlot* plot() const { return m_plot; }

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QStringList m_rows, m_columns;
    int m_rowStride = 1; ///< every m_rowStride-th row is labelled
};

} // namespace widgets
