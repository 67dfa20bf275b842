#pragma once
// A 2-D map with a colour scale (QCustomPlot QCPColorMap), e.g. a max-pooled saliency map:
// cell (i, j) covers rows [i·poolRows, (i+1)·poolRows) and columns [j·poolColumns, …) of the
// weight, so the axes are in weight rows and columns. Hovering shows row, column and value.
// Plain data in; no I/O.

#include <QPoint>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPGraph;
class QCPTextElement;
class QCheckBox;

namespace widgets {

class HeatMapPlot : public QWidget {
    Q_OBJECT
public:
    explicit HeatMapPlot(QWidget* parent = nullptr);
    /// `values` row-major [rows, columns] of cells, each poolRows × poolColumns weights.
    void setMap(const QString& title, const QString& valueLabel, int rows, int columns, const QVector<double>& values,
                int poolRows, int poolColumns);
    void clear(const QString& message);
    /// Marks single weights (row, column) on the map (SpQR's outliers), named in the legend;
    /// none clears them. Kept until the next call.
    void setMarkers(const QString& name, const QVector<QPoint>& rowColumn);
    int markerCount() const;
    void setLogScale(bool logarithmic);
    /// The value drawn in cell (row, column) of the map (tests).
    double cellValue(int row, int column) const;
    /// "row r, column c: value" for a point in weight coordinates (the hover text).
    QString describe(double weightRow, double weightColumn) const;
    /// The map as CSV: "row_first,column_first,value" per cell (first weight row / column it covers).
    QString toCsv() const;
    QCustomPlot* plot() const { return m_plot; }

private:
    QCustomPlot* m_plot = nullptr;
    QCPTextElement* m_title = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPGraph* m_markers = nullptr;
    QCheckBox* m_logScale = nullptr;
    int m_poolRows = 1, m_poolColumns = 1;
};

} // namespace widgets
