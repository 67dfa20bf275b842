#include "heat_map_plot.h"

#include "plot_frame.h"
#include "qcustomplot_include.h"

#include <QCheckBox>
#include <QToolTip>
#include <QVBoxLayout>

namespace widgets {

HeatMapPlot::HeatMapPlot(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 220, &m_title);
    m_plot->xAxis->setLabel(tr("input channel (weight column)"));
    m_plot->yAxis->setLabel(tr("output channel (weight row)"));
    m_plot->yAxis->setRangeReversed(true); // row 0 at the top, as a matrix is read
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(1, 1, m_scale);
    m_map->setColorScale(m_scale);
    m_map->setGradient(QCPColorGradient::gpThermal);
    m_map->setInterpolate(false);
    m_markers = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis);
    m_markers->setLineStyle(QCPGraph::lsNone);
    m_markers->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(0, 200, 255), 1.5), Qt::NoBrush, 7));
    m_markers->removeFromLegend();
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_logScale = new QCheckBox(tr("log colour scale"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_logScale);
    connect(m_logScale, &QCheckBox::toggled, this, &HeatMapPlot::setLogScale);
    m_plot->setMouseTracking(true);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
        const double column = m_plot->xAxis->pixelToCoord(event->pos().x());
        const double row = m_plot->yAxis->pixelToCoord(event->pos().y());
        const QString text = describe(row, column);
        if (!text.isEmpty())
            QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
    });
}

void HeatMapPlot::setMap(const QString& title, const QString& valueLabel, int rows, int columns,
                         const QVector<double>& values, int poolRows, int poolColumns)
{
    m_poolRows = std::max(1, poolRows);
    m_poolColumns = std::max(1, poolColumns);
    m_title->setText(title);
    m_scale->axis()->setLabel(valueLabel);
    // Cell centres in weight coordinates: the axes read as weight rows and columns.
    m_map->data()->setSize(columns, rows);
    m_map->data()->setRange(QCPRange(0.5 * m_poolColumns, (columns - 0.5) * m_poolColumns),
                            QCPRange(0.5 * m_poolRows, (rows - 0.5) * m_poolRows));
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c)
            m_map->data()->setCell(c, r, values.value(r * columns + c));
    m_map->rescaleDataRange(true);
    m_markers->data()->clear(); // the previous map's markers; the caller sets this map's
    m_plot->legend->setVisible(false);
    m_plot->rescaleAxes();
    m_plot->replot();
}

void HeatMapPlot::setMarkers(const QString& name, const QVector<QPoint>& rowColumn)
{
    QVector<double> x, y;
    for (const QPoint& p : rowColumn) {
        x << p.y() + 0.5; // weight column, at the centre of its cell
        y << p.x() + 0.5; // weight row
    }
    m_markers->setData(x, y);
    m_markers->setName(name);
    const bool shown = !rowColumn.isEmpty();
    m_plot->legend->setVisible(shown);
    if (shown)
        m_markers->addToLegend();
    else
        m_markers->removeFromLegend();
    m_plot->replot();
}

int HeatMapPlot::markerCount() const
{
    return m_markers->dataCount();
}

void HeatMapPlot::clear(const QString& message)
{
    m_map->data()->clear();
    setMarkers({}, {});
    m_title->setText(message);
    m_plot->replot();
}

void HeatMapPlot::setLogScale(bool logarithmic)
{
    if (m_logScale->isChecked() != logarithmic)
        m_logScale->setChecked(logarithmic);
    m_map->setDataScaleType(logarithmic ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    m_map->rescaleDataRange(true);
    m_plot->replot();
}

double HeatMapPlot::cellValue(int row, int column) const
{
    return m_map->data()->cell(column, row);
}

QString HeatMapPlot::describe(double weightRow, double weightColumn) const
{
    const int row = static_cast<int>(weightRow) / m_poolRows, column = static_cast<int>(weightColumn) / m_poolColumns;
    if (weightRow < 0 || weightColumn < 0 || row >= m_map->data()->valueSize() || column >= m_map->data()->keySize())
        return {};
    return tr("rows %1–%2, columns %3–%4: %5")
        .arg(row * m_poolRows)
        .arg((row + 1) * m_poolRows - 1)
        .arg(column * m_poolColumns)
        .arg((column + 1) * m_poolColumns - 1)
        .arg(cellValue(row, column), 0, 'g', 4);
}

QString HeatMapPlot::toCsv() const
{
    QString csv = QStringLiteral("row_first,column_first,value\n");
    for (int r = 0; r < m_map->data()->valueSize(); ++r)
        for (int c = 0; c < m_map->data()->keySize(); ++c)
            csv +=
                QStringLiteral("%1,%2,%3\n").arg(r * m_poolRows).arg(c * m_poolColumns).arg(cellValue(r, c), 0, 'g', 8);
    return csv;
}

} // namespace widgets
