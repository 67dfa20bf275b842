#pragma once
// The runs of a workspace as a table (one row per run: id … status, one perplexity column per
// evaluation dataset found, one acc column per zero-shot task and their average, then created,
// tags, model), and the proxy that filters and sorts it. Qt::UserRole
// gives each cell's sort key (numbers for ids and perplexities, so 9.8 sorts before 10.2).

#include "gui/run_rows.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

namespace app {

class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Name, Method, Weights, Bits, EffectiveBits, Loss, Status, LeadColumns };
    enum TrailingColumn { Created, Tags, Model, TrailingColumns };
    static constexpr int SortRole = Qt::UserRole;
    static constexpr int RunIdRole = Qt::UserRole + 1;
    /// Every run a row stands for (QVariantList of ids): the row's own, or a seed group's.
    static constexpr int MemberIdsRole = Qt::UserRole + 2;

    explicit RunsTableModel(QObject* parent = nullptr);

    /// Replaces every row (a model reset: views keep their sort and filter through the proxy).
    void setRuns(QVector<RunRow> rows);
    /// One row per seed group (groupRowsBySeed): mean ± std of each number over the seeds.
    void setGroupSeeds(bool grouped);
    bool groupsSeeds() const { return m_groupSeeds; }
    const QVector<RunRow>& runs() const { return m_rows; }
    const QStringList& datasets() const { return m_datasets; }
    /// The column of the perplexity on `datasets()[i]`, and of a trailing column.
    int perplexityColumn(int i) const { return LeadColumns + i; }
    /// The column of the zero-shot acc on `tasks()[i]`, and of their average (after the tasks).
    int taskColumn(int i) const { return LeadColumns + static_cast<int>(m_datasets.size()) + i; }
    int averageAccuracyColumn() const { return taskColumn(static_cast<int>(m_tasks.size())); }
    const QStringList& tasks() const { return m_tasks; }
    int trailingColumn(TrailingColumn column) const
    {
        return averageAccuracyColumn() + (m_tasks.isEmpty() ? 0 : 1) + column;
    }
    /// Row of run `id` (or of the seed group it belongs to), or -1.
    int rowOf(qint64 id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant display(const RunRow& run, int column) const;
    QVariant sortKey(const RunRow& run, int column) const;
    /// The number in a perplexity, task or average column; NaN where the run has none.
    double metricValue(const RunRow& run, int column) const;
    /// A seed group's standard deviation of that number; NaN otherwise.
    double spreadValue(const RunRow& run, int column) const;
    bool isMetricColumn(int column) const { return column >= LeadColumns && column < trailingColumn(Created); }

    /// Shows m_allRows, or their seed groups.
    void rebuildRows();

    QVector<RunRow> m_allRows;
    QVector<RunRow> m_rows; ///< what the table shows
    bool m_groupSeeds = false;
    QStringList m_datasets; ///< sorted, one perplexity column each
    QStringList m_tasks;    ///< sorted, one zero-shot acc column each, then their average
};

/// Case-insensitive substring filter over every column, numeric-aware sorting.
class RunsFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit RunsFilterModel(QObject* parent = nullptr);
};

} // namespace app
