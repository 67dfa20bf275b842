#include "gui/runs_table_model.h"

#include <QBrush>
#include <QColor>

#include <cmath>
#include <limits>

namespace app {
namespace {

// "54.534 ± 0.210": a seed group's mean with its sample standard deviation (n = 1: the mean).
QString withSpread(double mean, double spread)
{
    const QString text = QString::number(mean, 'f', 3);
    return std::isfinite(spread) ? QStringLiteral("%1 ± %2").arg(text, QString::number(spread, 'f', 3)) : text;
}

} // namespace

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent)
{
}

void RunsTableModel::setRuns(QVector<RunRow> rows)
{
    m_allRows = std::move(rows);
    rebuildRows();
}

void RunsTableModel::setGroupSeeds(bool grouped)
{
    if (grouped == m_groupSeeds)
        return;
    m_groupSeeds = grouped;
    rebuildRows();
}

void RunsTableModel::rebuildRows()
{
    beginResetModel();
    m_rows = m_groupSeeds ? groupRowsBySeed(m_allRows) : m_allRows;
    m_datasets.clear();
    for (const RunRow& run : m_rows)
        for (auto it = run.perplexity.cbegin(); it != run.perplexity.cend(); ++it)
            if (!m_datasets.contains(it.key()))
                m_datasets << it.key();
    m_datasets.sort();
    m_tasks.clear();
    for (const RunRow& run : m_rows)
        for (auto it = run.taskAccuracy.cbegin(); it != run.taskAccuracy.cend(); ++it)
            if (!m_tasks.contains(it.key()))
                m_tasks << it.key();
    m_tasks.sort();
    endResetModel();
}

int RunsTableModel::rowOf(qint64 id) const
{
    for (int row = 0; row < m_rows.size(); ++row)
        if (m_rows[row].id == id || m_rows[row].members.contains(id))
            return row;
    return -1;
}

int RunsTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunsTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : trailingColumn(Created) + TrailingColumns;
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= columnCount())
        return {};
    static const char* const lead[LeadColumns] = {"Id",   "Name",        "Method", "Weights",
                                                  "Bits", "Bits/weight", "Loss",   "Status"};
    static const char* const trailing[TrailingColumns] = {"Created", "Tags", "Model"};
    if (section < LeadColumns)
        return tr(lead[section]);
    if (section < taskColumn(0))
        return tr("ppl %1").arg(m_datasets[section - LeadColumns]);
    if (section < averageAccuracyColumn())
        return tr("acc %1").arg(m_tasks[section - taskColumn(0)]);
    if (section < trailingColumn(Created))
        return tr("avg acc");
    return tr(trailing[section - trailingColumn(Created)]);
}

QVariant RunsTableModel::display(const RunRow& run, int column) const
{
    switch (column) {
    case Id:
        return run.id;
    case Name:
        if (run.isSeedGroup()) {
            QStringList seeds;
            for (const quint64 seed : run.memberSeeds)
                seeds << QString::number(seed);
            return tr("%1 (seeds %2)").arg(run.name, seeds.join(QLatin1Char(',')));
        }
        return run.name;
    case Method:
        // Derived runs name what they are and their parent (TTA numbers are never PTQ numbers).
        if (run.isTestTimeAdapted())
            return tr("%1 · TTA of #%2").arg(run.method).arg(run.parentId);
        if (!run.kind.isEmpty())
            return tr("%1 · %2 of #%3").arg(run.method, run.kind).arg(run.parentId);
        return run.method;
    case Weights:
        return run.weights;
    case Bits:
        return run.bits;
    case EffectiveBits:
        return std::isfinite(run.effectiveBits) ? QVariant(withSpread(run.effectiveBits, run.effectiveBitsSpread))
                                                : QVariant();
    case Loss:
        return run.loss;
    case Status:
        return run.isSeedGroup() ? tr("%1 ×%2").arg(run.status).arg(run.members.size()) : run.status;
    default:
        break;
    }
    if (column == trailingColumn(Created))
        return run.created.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    if (column == trailingColumn(Tags))
        return run.tags.join(QStringLiteral(", "));
    if (column == trailingColumn(Model))
        return run.model;
    const double value = metricValue(run, column);
    if (!std::isfinite(value))
        return {};
    if (run.isSeedGroup())
        return withSpread(value, spreadValue(run, column));
    if (column >= taskColumn(0))
        return QString::number(value, 'f', 3);
    return run.isTestTimeAdapted() ? tr("%1 TTA").arg(value, 0, 'f', 3) : QString::number(value, 'f', 3);
}

double RunsTableModel::spreadValue(const RunRow& run, int column) const
{
    const double none = std::numeric_limits<double>::quiet_NaN();
    if (column >= LeadColumns && column < taskColumn(0))
        return run.perplexitySpread.value(m_datasets.value(column - LeadColumns), none);
    if (column >= taskColumn(0) && column < averageAccuracyColumn())
        return run.taskAccuracySpread.value(m_tasks.value(column - taskColumn(0)), none);
    return none; // the average of means: no spread of its own
}

double RunsTableModel::metricValue(const RunRow& run, int column) const
{
    const double none = std::numeric_limits<double>::quiet_NaN();
    if (column >= LeadColumns && column < taskColumn(0)) {
        const auto value = run.perplexity.constFind(m_datasets.value(column - LeadColumns));
        return value == run.perplexity.cend() ? none : *value;
    }
    if (column >= taskColumn(0) && column < averageAccuracyColumn()) {
        const auto value = run.taskAccuracy.constFind(m_tasks.value(column - taskColumn(0)));
        return value == run.taskAccuracy.cend() ? none : *value;
    }
    if (!m_tasks.isEmpty() && column == averageAccuracyColumn())
        return run.taskAccuracy.size() == m_tasks.size() ? run.averageAccuracy() : none;
    return none;
}

QVariant RunsTableModel::sortKey(const RunRow& run, int column) const
{
    if (column == Id)
        return run.id;
    if (column == EffectiveBits)
        return std::isfinite(run.effectiveBits) ? run.effectiveBits : HUGE_VAL;
    if (column == trailingColumn(Created))
        return run.created;
    if (isMetricColumn(column)) {
        const double value = metricValue(run, column);
        // Runs without the number sort after every run that has one.
        return std::isfinite(value) ? value : HUGE_VAL;
    }
    return display(run, column).toString().toLower();
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunRow& run = m_rows[index.row()];
    switch (role) {
    case Qt::DisplayRole:
        return display(run, index.column());
    case SortRole:
        return sortKey(run, index.column());
    case RunIdRole:
        return run.id;
    case MemberIdsRole: {
        QVariantList ids;
        if (run.isSeedGroup())
            for (const qint64 id : run.members)
                ids << id;
        else
            ids << run.id;
        return ids;
    }
    case Qt::TextAlignmentRole:
        if (index.column() == Id || index.column() == EffectiveBits || isMetricColumn(index.column()))
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        if (run.isSeedGroup()) {
            QStringList ids;
            for (const qint64 id : run.members)
                ids << QString::number(id);
            return tr("Mean ± sample standard deviation over %1 seeds (runs %2): the runs differ only in "
                      "calibration.seed")
                .arg(run.members.size())
                .arg(ids.join(QStringLiteral(", ")));
        }
        if (index.column() == Status && !run.error.isEmpty())
            return run.error;
        if (index.column() == trailingColumn(Model))
            return run.modelPath;
        if (!m_tasks.isEmpty() && index.column() == averageAccuracyColumn())
            return tr("Mean zero-shot acc over the %1 tasks (shown when the run scored all of them)")
                .arg(m_tasks.size());
        if (index.column() >= taskColumn(0) && index.column() < averageAccuracyColumn())
            return tr("Zero-shot accuracy (acc, as lm-evaluation-harness reports it); `quantscope runs show` "
                      "lists acc_norm and the standard errors");
        if (run.isTestTimeAdapted() && index.column() >= LeadColumns && index.column() < taskColumn(0))
            return tr("Test-time adapted on this text (LRQuant TTA): compare with TTA numbers only");
        return {};
    case Qt::ForegroundRole:
        if (index.column() == Status && (run.status == QLatin1String("failed")))
            return QBrush(QColor(0xc6, 0x28, 0x28));
        if (run.isTestTimeAdapted() && index.column() >= LeadColumns && index.column() < taskColumn(0))
            return QBrush(QColor(0x6a, 0x1b, 0x9a)); // TTA numbers stand apart from PTQ numbers
        return {};
    default:
        return {};
    }
}

RunsFilterModel::RunsFilterModel(QObject* parent) : QSortFilterProxyModel(parent)
{
    setFilterKeyColumn(-1);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setSortRole(RunsTableModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

} // namespace app
