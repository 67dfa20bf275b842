#pragma once
// The compare view's "Seed groups" page (issue 20 §5): the chosen runs grouped by everything
// but calibration.seed, one bar per group at the mean of a metric with the sample standard
// deviation as its error bar, and the groups' n and seeds in the labels.

#include "jobs/seed_groups.h"

#include <QWidget>

#include <vector>

class QComboBox;
class QLabel;

namespace widgets {
class ErrorBarPlot;
}

namespace app {

class SeedGroupView : public QWidget {
    Q_OBJECT
public:
    explicit SeedGroupView(QWidget* parent = nullptr);

    /// Shows `groups` (core::groupRunsBySeed of the compared runs); the metric chooser lists every
    /// metric any group has and keeps the current one where it can.
    void setGroups(std::vector<core::SeedGroup> groups);
    /// Plots `metric` ("perplexity brown_test", "acc brown_cloze", ...); false if no group has it.
    bool showMetric(const QString& metric);
    QStringList metrics() const;
    const std::vector<core::SeedGroup>& groups() const { return m_groups; }
    widgets::ErrorBarPlot* plot() const { return m_plot; }

private:
    std::vector<core::SeedGroup> m_groups;
    QComboBox* m_metric = nullptr;
    QLabel* m_note = nullptr;
    widgets::ErrorBarPlot* m_plot = nullptr;
};

} // namespace app
