#pragma once
// Export of any plot: a context menu on the QCustomPlot with "Save image as PNG / SVG / PDF…"
// and "Save data as CSV…". SVG goes through QSvgGenerator (QCustomPlot has no SVG writer).

#include <QString>

#include <functional>

class QCustomPlot;

namespace app {

/// `csv` produces the plotted data (header line first) when the user asks for it.
void installPlotExport(QCustomPlot* plot, std::function<QString()> csv);

/// Writes the plot to `path` by its extension (.png, .svg, .pdf); false on failure.
bool savePlot(QCustomPlot* plot, const QString& path);

/// CSV of every graph of `plot`: "series,x,y" rows (what the plots show, as drawn).
QString graphsCsv(const QCustomPlot* plot);

} // namespace app
