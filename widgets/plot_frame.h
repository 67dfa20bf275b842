#pragma once
// What every Quantscope plot shares: a QCustomPlot with a bold title row, drag-to-pan and
// wheel-to-zoom, the series colours, a logarithmic y axis on demand, and reading back what a
// graph draws (for tests and CSV export).

#include <QColor>
#include <QPen>
#include <QVector>

class QCustomPlot;
class QCPTextElement;
class QWidget;

namespace widgets {

/// A new plot in `parent` with interactions and a title element (returned in `title`).
QCustomPlot* createPlot(QWidget* parent, int minimumHeight, QCPTextElement** title);

/// The i-th series colour (a colour-blind-safe cycle of six).
QColor seriesColor(int i);
/// The i-th series pen: seriesColor(i), solid for the first six series, dashed for the next
/// six, dotted after, so that no two of up to 18 series look alike.
QPen seriesPen(int i, double width);
/// Puts the legend inside the plot's top-right corner for a few series, and beside the plot
/// for more than `inside` (so that it never hides the data).
void placeLegend(QCustomPlot* plot, int series, int inside = 4);

/// Switches the y axis between linear and logarithmic (with a matching ticker).
void setLogarithmicY(QCustomPlot* plot, bool logarithmic);

/// The values graph `graph` draws, point by point (empty for a missing graph).
QVector<double> graphValues(const QCustomPlot* plot, int graph);

} // namespace widgets
