#include "gui/runs_panel.h"

#include "store/workspace.h"
#include "util/error.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QTableView>
#include <QVBoxLayout>

namespace app {

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent)
{
    m_model = new RunsTableModel(this);
    m_filter = new RunsFilterModel(this);
    m_filter->setSourceModel(m_model);

    m_filterEdit = new QLineEdit(this);
    m_filterEdit->setPlaceholderText(tr("Filter runs (name, method, loss, status, tag…)"));
    m_filterEdit->setClearButtonEnabled(true);
    m_groupSeeds = new QCheckBox(tr("Group &seeds"), this);
    m_groupSeeds->setToolTip(tr("One row for the runs that differ only in calibration.seed: mean ± sample "
                                "standard deviation of every number, n in the status"));
    m_view = new QTableView(this);
    m_view->setModel(m_filter);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunsTableModel::Id, Qt::DescendingOrder); // newest first
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setWordWrap(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* filterRow = new QHBoxLayout();
    filterRow->addWidget(m_filterEdit, 1);
    filterRow->addWidget(m_groupSeeds);
    layout->addLayout(filterRow);
    layout->addWidget(m_view, 1);

    connect(m_filterEdit, &QLineEdit::textChanged, m_filter, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { Q_EMIT selectionChanged(selectedRunIds()); });
    connect(m_view, &QWidget::customContextMenuRequested, this, &RunsPanel::showContextMenu);
    connect(m_groupSeeds, &QCheckBox::toggled, this, &RunsPanel::setGroupSeeds);
}

void RunsPanel::setGroupSeeds(bool grouped)
{
    if (m_groupSeeds->isChecked() != grouped)
        m_groupSeeds->setChecked(grouped); // toggled() comes back here
    if (m_model->groupsSeeds() == grouped)
        return;
    const QList<qint64> selected = selectedRunIds();
    m_model->setGroupSeeds(grouped);
    m_view->resizeColumnsToContents();
    selectRuns(selected);
}

RunsPanel::~RunsPanel() = default;

bool RunsPanel::openWorkspace(const QString& directory)
{
    QString warning;
    try {
        // Read-only where it cannot be written (issue 21): the runs can still be browsed.
        core::ReadableWorkspace opened = core::openWorkspaceForReading(directory.toStdString());
        warning = QString::fromStdString(opened.warning);
        m_workspace = std::make_unique<core::Workspace>(std::move(opened.workspace));
    } catch (const core::Error& e) {
        Q_EMIT message(tr("Cannot open the workspace: %1").arg(QString::fromStdString(e.what())), true);
        return false;
    }
    refresh();
    if (!warning.isEmpty())
        Q_EMIT message(warning, true);
    else
        Q_EMIT message(tr("Workspace %1: %n run(s)", nullptr, m_model->rowCount()).arg(directory), false);
    return true;
}

QString RunsPanel::workspaceDirectory() const
{
    return m_workspace ? QString::fromStdString(m_workspace->directory()) : QString();
}

void RunsPanel::refresh()
{
    if (!m_workspace)
        return;
    const QList<qint64> selected = selectedRunIds();
    try {
        m_model->setRuns(loadRunRows(m_workspace->catalog()));
    } catch (const core::Error& e) {
        Q_EMIT message(tr("Cannot read the runs: %1").arg(QString::fromStdString(e.what())), true);
        return;
    }
    m_view->resizeColumnsToContents();
    selectRuns(selected);
}

QList<qint64> RunsPanel::selectedRunIds() const
{
    QList<qint64> ids;
    for (const QModelIndex& index : m_view->selectionModel()->selectedRows())
        for (const QVariant& id : index.data(RunsTableModel::MemberIdsRole).toList())
            ids << id.toLongLong();
    std::sort(ids.begin(), ids.end());
    return ids;
}

void RunsPanel::selectRuns(const QList<qint64>& ids)
{
    QItemSelection selection;
    for (const qint64 id : ids) {
        const int row = m_model->rowOf(id);
        if (row < 0)
            continue;
        const QModelIndex index = m_filter->mapFromSource(m_model->index(row, 0));
        if (index.isValid())
            selection.select(index, index);
    }
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void RunsPanel::setFilterText(const QString& text)
{
    m_filterEdit->setText(text);
}

void RunsPanel::renameRun(qint64 id, const QString& name)
{
    try {
        m_workspace->catalog().renameRun(id, name.trimmed().toStdString());
        refresh();
    } catch (const core::Error& e) {
        Q_EMIT message(QString::fromStdString(e.what()), true);
    }
}

void RunsPanel::setRunTags(qint64 id, const QStringList& tags)
{
    std::vector<std::string> cleaned;
    for (const QString& tag : tags)
        if (!tag.trimmed().isEmpty())
            cleaned.push_back(tag.trimmed().toStdString());
    try {
        m_workspace->catalog().setRunTags(id, cleaned);
        refresh();
    } catch (const core::Error& e) {
        Q_EMIT message(QString::fromStdString(e.what()), true);
    }
}

void RunsPanel::deleteRuns(const QList<qint64>& ids)
{
    for (const qint64 id : ids) {
        try {
            m_workspace->deleteRun(id);
        } catch (const core::Error& e) {
            Q_EMIT message(QString::fromStdString(e.what()), true);
        }
    }
    refresh();
    Q_EMIT message(tr("Deleted %n run(s)", nullptr, static_cast<int>(ids.size())), false);
}

void RunsPanel::showContextMenu(const QPoint& position)
{
    const QList<qint64> ids = selectedRunIds();
    if (ids.isEmpty() || !m_workspace)
        return;
    QMenu menu(this);
    QAction* rename = menu.addAction(tr("&Rename…"));
    QAction* tags = menu.addAction(tr("&Tags…"));
    rename->setEnabled(ids.size() == 1);
    tags->setEnabled(ids.size() == 1);
    menu.addSeparator();
    QAction* rerun = menu.addAction(tr("Re-run with This &Config…"));
    rerun->setEnabled(ids.size() == 1);
    QAction* exportModel = menu.addAction(tr("&Export Model…"));
    const int row = m_model->rowOf(ids.front());
    const bool oneFinished = ids.size() == 1 && row >= 0 && m_model->runs()[row].status == QLatin1String("finished");
    exportModel->setEnabled(oneFinished);
    // Test-time adaptation re-quantizes the last block with LRQuant's smoothing (LET machinery).
    QAction* adapt = menu.addAction(tr("&Adapt to a Text (TTA)…"));
    adapt->setEnabled(oneFinished && !m_model->runs()[row].isTestTimeAdapted() &&
                      (m_model->runs()[row].method == QLatin1String("lrquant") ||
                       m_model->runs()[row].method == QLatin1String("omniquant")));
    QAction* preprocess = menu.addAction(tr("&Preprocess and Re-quantize (LoRA)"));
    preprocess->setEnabled(oneFinished && !m_model->runs()[row].isTestTimeAdapted());
    // An interrupted calibration continues from its last finished block (issue 20).
    QAction* resume = menu.addAction(tr("Re&sume from Checkpoint"));
    resume->setEnabled(ids.size() == 1 && row >= 0 && !m_model->runs()[row].isSeedGroup() &&
                       !m_model->runs()[row].isTestTimeAdapted() &&
                       (m_model->runs()[row].status == QLatin1String("failed") ||
                        m_model->runs()[row].status == QLatin1String("cancelled")));
    menu.addSeparator();
    QAction* remove = menu.addAction(tr("&Delete %n run(s)…", nullptr, static_cast<int>(ids.size())));
    QAction* chosen = menu.exec(m_view->viewport()->mapToGlobal(position));
    if (chosen == rename)
        askRename(ids.front());
    else if (chosen == tags)
        askTags(ids.front());
    else if (chosen == remove)
        askDelete(ids);
    else if (chosen == rerun)
        Q_EMIT rerunRequested(ids.front());
    else if (chosen == exportModel)
        Q_EMIT exportRequested(ids.front());
    else if (chosen == adapt)
        Q_EMIT adaptRequested(ids.front());
    else if (chosen == preprocess)
        Q_EMIT preprocessRequested(ids.front());
    else if (chosen == resume)
        Q_EMIT resumeRequested(ids.front());
}

void RunsPanel::askRename(qint64 id)
{
    const int row = m_model->rowOf(id);
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Rename run %1").arg(id), tr("Name:"), QLineEdit::Normal,
                                               row >= 0 ? m_model->runs()[row].name : QString(), &ok);
    if (ok && !name.trimmed().isEmpty())
        renameRun(id, name);
}

void RunsPanel::askTags(qint64 id)
{
    const int row = m_model->rowOf(id);
    bool ok = false;
    const QString text =
        QInputDialog::getText(this, tr("Tags of run %1").arg(id), tr("Tags (comma-separated):"), QLineEdit::Normal,
                              row >= 0 ? m_model->runs()[row].tags.join(QStringLiteral(", ")) : QString(), &ok);
    if (ok)
        setRunTags(id, text.split(QLatin1Char(',')));
}

void RunsPanel::askDelete(const QList<qint64>& ids)
{
    QStringList names;
    for (const qint64 id : ids)
        names << QString::number(id);
    const auto answer = QMessageBox::question(
        this, tr("Delete runs"),
        tr("Delete run(s) %1 with their artifacts? This cannot be undone.").arg(names.join(QStringLiteral(", "))));
    if (answer == QMessageBox::Yes)
        deleteRuns(ids);
}

} // namespace app
