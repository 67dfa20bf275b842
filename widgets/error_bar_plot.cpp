#include "error_bar_plot.h"

#include "plot_frame.h"
#include "qcustomplot_include.h"

#include <QVBoxLayout>

#include <cmath>

namespace widgets {

ErrorBarPlot::ErrorBarPlot(QWidget* parent) : QWidget(parent)
{
    m_plot = createPlot(this, 150, &m_title);
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(QColor(0x1f, 0x77, 0xb4, 170));
    m_bars->setWidth(0.6);
    m_errors = new QCPErrorBars(m_plot->xAxis, m_plot->yAxis);
    m_errors->setDataPlottable(m_bars);
    m_errors->setPen(QPen(Qt::black, 1.5));
    m_errors->setWhiskerWidth(10);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
}

void ErrorBarPlot::setBars(const QString& title, const QString& yLabel, const QStringList& labels,
                           const QVector<double>& means, const QVector<double>& errors)
{
    m_labels = labels;
    m_means = means;
    m_errorValues = errors;
    m_title->setText(title);
    m_plot->yAxis->setLabel(yLabel);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> x, y, e;
    double low = HUGE_VAL, high = -HUGE_VAL;
    for (int i = 0; i < means.size(); ++i) {
        ticker->addTick(i, labels.value(i));
        if (!std::isfinite(means[i]))
            continue;
        const double error = std::isfinite(errors.value(i)) ? errors[i] : 0.0;
        x << i;
        y << means[i];
        e << error;
        low = std::min(low, means[i] - error);
        high = std::max(high, means[i] + error);
    }
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setTickLabelRotation(labels.size() > 3 ? 20 : 0);
    m_bars->setData(x, y, true);
    m_errors->setData(e);
    m_plot->xAxis->setRange(-0.6, means.size() - 0.4);
    // The axis starts at 0 unless the values sit far above it (perplexities): then the spread
    // between the groups, which is what the plot is for, would be a few pixels (the bars, drawn
    // from 0, are cut at the axis).
    if (x.isEmpty()) {
        m_plot->yAxis->setRange(0.0, 1.0);
    } else {
        const double span = std::max(high - low, 1e-3 * std::max(std::abs(high), 1.0));
        const double bottom = low > 0.0 && low < 3.0 * span ? 0.0 : low - 0.5 * span;
        m_plot->yAxis->setRange(bottom, high + 0.2 * span);
    }
    m_plot->replot();
}

QVector<double> ErrorBarPlot::plottedErrors() const
{
    QVector<double> errors;
    for (int k = 0; k < m_errors->dataCount(); ++k)
        errors << m_errors->data()->at(k).errorPlus;
    return errors;
}

QString ErrorBarPlot::toCsv() const
{
    QString csv = QStringLiteral("label,mean,error\n");
    for (int i = 0; i < m_means.size(); ++i)
        csv += QStringLiteral("\"%1\",%2,%3\n")
                   .arg(m_labels.value(i))
                   .arg(m_means[i], 0, 'g', 17)
                   .arg(m_errorValues.value(i), 0, 'g', 17);
    return csv;
}

} // namespace widgets
