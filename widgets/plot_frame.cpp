#include "plot_frame.h"

#include "qcustomplot_include.h"

#include <algorithm>

namespace widgets {

QCustomPlot* createPlot(QWidget* parent, int minimumHeight, QCPTextElement** title)
{
    auto* plot = new QCustomPlot(parent);
    plot->setMinimumHeight(minimumHeight);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->plotLayout()->insertRow(0);
    const QFont font = parent->font();
    *title = new QCPTextElement(plot, QString(), QFont(font.family(), font.pointSize(), QFont::Bold));
    plot->plotLayout()->addElement(0, 0, *title);
    return plot;
}

QColor seriesColor(int i)
{
    static const QColor palette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                                     QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b)};
    return palette[((i % 6) + 6) % 6];
}

QPen seriesPen(int i, double width)
{
    static const Qt::PenStyle styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine};
    return QPen(seriesColor(i), width, styles[(std::max(0, i) / 6) % 3]);
}

void placeLegend(QCustomPlot* plot, int series, int inside)
{
    QCPLegend* legend = plot->legend;
    QCPLayoutInset* corner = plot->axisRect()->insetLayout();
    const bool isInside = legend->layout() == corner;
    const bool wantInside = series <= inside;
    if (isInside == wantInside)
        return;
    if (wantInside) {
        plot->plotLayout()->take(legend);
        plot->plotLayout()->simplify();
        legend->setWrap(0);
        legend->setFillOrder(QCPLayoutGrid::foRowsFirst, true); // one entry a row
        corner->addElement(legend, Qt::AlignRight | Qt::AlignTop);
    } else {
        corner->take(legend);
        // Below the axis rect (row 1 of createPlot's layout), two entries a row, only as tall
        // as its entries: the axis keeps the whole width for its tick labels.
        legend->setWrap(2);
        legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true); // rearranges the entries
        plot->plotLayout()->addElement(2, 0, legend);
        plot->plotLayout()->setRowStretchFactor(2, 0.001);
    }
}

void setLogarithmicY(QCustomPlot* plot, bool logarithmic)
{
    plot->yAxis->setScaleType(logarithmic ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (logarithmic)
        plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else
        plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
}

QVector<double> graphValues(const QCustomPlot* plot, int graph)
{
    QVector<double> values;
    if (graph < 0 || graph >= plot->graphCount())
        return values;
    const auto data = plot->graph(graph)->data();
    for (int k = 0; k < data->size(); ++k)
        values << data->at(k)->value;
    return values;
}

} // namespace widgets
