#include "labelled_heat_map.h"

#include "plot_frame.h"
#include "qcustomplot_include.h"

#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

namespace widgets {

namespace {

/// Every `stride`-th label: tick labels must not overlap when cells are smaller than the text.
QSharedPointer<QCPAxisTickerText> textTicker(const QStringList& labels, int stride)
{
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < labels.size(); i += std::max(1, stride))
        ticker->addTick(i, labels[i]);
    return ticker;
}

/// Cells of `pixels` length need a stride so that labels `textHeight` apart fit.
int labelStride(int pixels, qsizetype cells, int textHeight)
{
    if (cells <= 0 || pixels <= 0)
        return 1;
    const double perCell = static_cast<double>(pixels) / static_cast<double>(cells);
    return std::max(1, static_cast<int>(std::ceil(textHeight / perCell)));
}

} // namespace

LabelledHeatMap::LabelledHeatMap(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 260, &m_title);
    m_plot->setInteractions({});           // the cells are the content: no panning away from them
    m_plot->yAxis->setRangeReversed(true); // first layer at the top, as the model reads
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(1, 1, m_scale);
    m_map->setColorScale(m_scale);
    // Blue = lower, white = equal, red = higher.
    QCPColorGradient diverging;
    diverging.setColorStopAt(0.0, QColor(33, 102, 172));
    diverging.setColorStopAt(0.5, QColor(247, 247, 247));
    diverging.setColorStopAt(1.0, QColor(178, 24, 43));
    diverging.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(diverging);
    m_map->setInterpolate(false);
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    // Thin the row labels to what the current height can show.
    connect(m_plot, &QCustomPlot::beforeReplot, this, [this] {
        const int stride = labelStride(m_plot->axisRect()->height(), m_rows.size(),
                                       QFontMetrics(m_plot->yAxis->tickLabelFont()).height());
        if (stride != m_rowStride) {
            m_rowStride = stride;
            m_plot->yAxis->setTicker(textTicker(m_rows, stride));
        }
    });
    m_plot->setMouseTracking(true);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
        const QString text =
            describe(m_plot->xAxis->pixelToCoord(event->pos().x()), m_plot->yAxis->pixelToCoord(event->pos().y()));
        if (!text.isEmpty())
            QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
    });
}

void LabelledHeatMap::setMap(const QString& title, const QString& valueLabel, const QStringList& rows,
                             const QStringList& columns, const QVector<double>& values, double limit)
{
    m_rows = rows;
    m_columns = columns;
    m_title->setText(title);
    m_scale->axis()->setLabel(valueLabel);
    m_map->data()->setSize(static_cast<int>(columns.size()), static_cast<int>(rows.size()));
    m_map->data()->setRange(QCPRange(0, std::max<double>(0, columns.size() - 1)),
                            QCPRange(0, std::max<double>(0, rows.size() - 1)));
    for (int r = 0; r < rows.size(); ++r)
        for (int c = 0; c < columns.size(); ++c)
            m_map->data()->setCell(c, r, values.value(r * columns.size() + c, NAN));
    const double range = limit > 0 && std::isfinite(limit) ? limit : 1.0;
    m_map->setDataRange(QCPRange(-range, range));
    m_plot->xAxis->setTicker(textTicker(columns, 1));
    m_plot->xAxis->setTickLabelRotation(columns.size() > 4 ? 45 : 0);
    m_rowStride =
        labelStride(m_plot->axisRect()->height(), rows.size(), QFontMetrics(m_plot->yAxis->tickLabelFont()).height());
    m_plot->yAxis->setTicker(textTicker(rows, m_rowStride));
    m_plot->xAxis->setRange(-0.5, columns.size() - 0.5);
    m_plot->yAxis->setRange(-0.5, rows.size() - 0.5);
    m_plot->replot();
}

void LabelledHeatMap::clear(const QString& message)
{
    m_rows.clear();
    m_columns.clear();
    m_map->data()->clear();
    m_title->setText(message);
    m_plot->replot();
}

double LabelledHeatMap::cellValue(int row, int column) const
{
    return m_map->data()->cell(column, row);
}

QString LabelledHeatMap::describe(double x, double y) const
{
    const int column = static_cast<int>(std::lround(x)), row = static_cast<int>(std::lround(y));
    if (row < 0 || column < 0 || row >= m_rows.size() || column >= m_columns.size())
        return {};
    const double value = cellValue(row, column);
    return tr("%1 · %2: %3")
        .arg(m_rows[row], m_columns[column], std::isfinite(value) ? QString::number(value, 'g', 4) : tr("n/a"));
}

QString LabelledHeatMap::toCsv() const
{
    QString csv = QStringLiteral("layer");
    for (const QString& column : m_columns)
        csv += QLatin1Char(',') + column;
    csv += QLatin1Char('\n');
    for (int r = 0; r < m_rows.size(); ++r) {
        csv += m_rows[r];
        for (int c = 0; c < m_columns.size(); ++c) {
            const double value = cellValue(r, c);
            csv += QLatin1Char(',') + (std::isfinite(value) ? QString::number(value, 'g', 8) : QString());
        }
        csv += QLatin1Char('\n');
    }
    return csv;
}

} // namespace widgets
