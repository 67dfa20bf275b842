#include "gui/seed_group_view.h"

#include "error_bar_plot.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

namespace app {

SeedGroupView::SeedGroupView(QWidget* parent) : QWidget(parent)
{
    m_metric = new QComboBox(this);
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_plot = new widgets::ErrorBarPlot(this);
    auto* form = new QFormLayout();
    form->addRow(tr("&Metric:"), m_metric);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(form);
    layout->addWidget(m_note);
    layout->addWidget(m_plot, 1);
    connect(m_metric, &QComboBox::currentTextChanged, this, [this](const QString& metric) {
        if (!metric.isEmpty())
            showMetric(metric);
    });
}

QStringList SeedGroupView::metrics() const
{
    QStringList names;
    for (const core::SeedGroup& group : m_groups)
        for (const auto& [name, summary] : group.metrics)
            if (!names.contains(QString::fromStdString(name)))
                names << QString::fromStdString(name);
    return names;
}

void SeedGroupView::setGroups(std::vector<core::SeedGroup> groups)
{
    m_groups = std::move(groups);
    const QString current = m_metric->currentText();
    const QSignalBlocker block(m_metric);
    m_metric->clear();
    m_metric->addItems(metrics());
    const bool anyRepeated = std::any_of(m_groups.begin(), m_groups.end(),
                                         [](const core::SeedGroup& group) { return group.runIds.size() > 1; });
    m_note->setText(anyRepeated ? tr("Bars: mean over the seeds of each group; error bars: sample standard deviation "
                                     "(n − 1). `quantscope compare --group-seeds` prints the table.")
                                : tr("No two of these runs differ only in calibration.seed: every group has one "
                                     "run (no error bars). Select the runs of a seed sweep to compare groups."));
    const int index = m_metric->findText(current);
    m_metric->setCurrentIndex(index >= 0 ? index : 0);
    showMetric(m_metric->currentText());
}

bool SeedGroupView::showMetric(const QString& metric)
{
    QStringList labels;
    QVector<double> means, errors;
    bool any = false;
    for (const core::SeedGroup& group : m_groups) {
        QString seeds;
        for (const std::uint64_t seed : group.seeds)
            seeds += (seeds.isEmpty() ? "" : ",") + QString::number(seed);
        labels
            << tr("%1\n(n %2, seeds %3)").arg(QString::fromStdString(group.name)).arg(group.runIds.size()).arg(seeds);
        const auto found = std::find_if(group.metrics.begin(), group.metrics.end(),
                                        [&](const auto& entry) { return entry.first == metric.toStdString(); });
        const bool has = found != group.metrics.end() && found->second.n > 0;
        any = any || has;
        means << (has ? found->second.mean : std::numeric_limits<double>::quiet_NaN());
        errors << (has ? found->second.standardDeviation : std::numeric_limits<double>::quiet_NaN());
    }
    m_plot->setBars(tr("%1: mean ± std over seeds").arg(metric), metric, labels, means, errors);
    return any;
}

} // namespace app
