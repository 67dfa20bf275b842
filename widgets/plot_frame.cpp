#include "plot_frame.h"

#include "qcustomplot_include.h"

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
