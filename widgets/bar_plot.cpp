#include "bar_plot.h"

#include "plot_frame.h"
#include "qcustomplot_include.h"

#include <QVBoxLayout>

namespace widgets {

BarPlot::BarPlot(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 150, &m_title);
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(QColor(0x1f, 0x77, 0xb4, 170));
    m_highlight = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_highlight->setPen(Qt::NoPen);
    m_highlight->setBrush(QColor(0xd6, 0x27, 0x28));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
        const int index = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(event->pos().x())));
        if (index >= 0 && index < m_values.size())
            Q_EMIT barClicked(index);
    });
}

void BarPlot::setBars(const QString& title, const QString& xLabel, const QString& yLabel, const QVector<double>& values)
{
    m_values = values;
    m_title->setText(title);
    m_plot->xAxis->setLabel(xLabel);
    m_plot->yAxis->setLabel(yLabel);
    QVector<double> x;
    double top = 0.0;
    for (int i = 0; i < values.size(); ++i) {
        x << i;
        top = std::max(top, values[i]);
    }
    m_bars->setData(x, values, true);
    m_highlight->data()->clear();
    m_plot->xAxis->setRange(-0.5, values.size() - 0.5);
    m_plot->yAxis->setRange(0.0, top > 0.0 ? top * 1.08 : 1.0);
    m_plot->replot();
}

void BarPlot::highlight(int index)
{
    m_highlight->data()->clear();
    if (index >= 0 && index < m_values.size())
        m_highlight->addData(index, m_values[index]);
    m_plot->replot();
}

QString BarPlot::toCsv() const
{
    QString csv = QStringLiteral("index,value\n");
    for (int i = 0; i < m_values.size(); ++i)
        csv += QStringLiteral("%1,%2\n").arg(i).arg(m_values[i], 0, 'g', 17);
    return csv;
}

QVector<double> BarPlot::plottedValues() const
{
    QVector<double> values;
    for (int k = 0; k < m_bars->data()->size(); ++k)
        values << m_bars->data()->at(k)->value;
    return values;
}

} // namespace widgets
