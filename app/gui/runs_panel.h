#pragma once
// The runs panel (a dock of the main window): every run of the workspace, filtered as the
// user types and sortable by any column, multi-selection, and a context menu to rename, tag,
// re-run, export or delete runs (deletion asks first; re-run and export go to the window). Reads and writes the catalog
// on the GUI thread: each is one short SQLite transaction (1 000 runs load in a few milliseconds).

#include "gui/runs_table_model.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QLineEdit;
class QTableView;

namespace core {
class Workspace;
}

namespace app {

class RunsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RunsPanel(QWidget* parent = nullptr);
    ~RunsPanel() override;

    /// Opens the workspace in `directory` (creating it if needed) and lists its runs.
    /// Returns false and emits message() when it cannot be opened.
    bool openWorkspace(const QString& directory);
    QString workspaceDirectory() const;
    /// Reads the runs again, keeping the selection.
    void refresh();

    QList<qint64> selectedRunIds() const;
    void selectRuns(const QList<qint64>& ids);
    void setFilterText(const QString& text);
    /// One row per seed group (runs that differ only in calibration.seed), mean ± std; selecting a
    /// group selects its runs (the compare view then plots the groups with error bars).
    void setGroupSeeds(bool grouped);

    /// Catalog edits (the context menu's actions, without their dialogs). Errors go to message().
    void renameRun(qint64 id, const QString& name);
    void setRunTags(qint64 id, const QStringList& tags);
    void deleteRuns(const QList<qint64>& ids);

    RunsTableModel* model() const { return m_model; }
    RunsFilterModel* filterModel() const { return m_filter; }
    QTableView* view() const { return m_view; }

Q_SIGNALS:
    void selectionChanged(const QList<qint64>& runIds);
    /// The user asks to calibrate again with run `runId`'s config (the window opens the form).
    void rerunRequested(qint64 runId);
    /// The user asks to export finished run `runId` as a Hugging Face model directory.
    void exportRequested(qint64 runId);
    /// "Adapt to a Text (TTA)…" on a finished run.
    void adaptRequested(qint64 runId);
    /// "Preprocess and Re-quantize…" on a finished run (PTQ1.61's restorative LoRA).
    void preprocessRequested(qint64 runId);
    /// "Resume from Checkpoint" on an interrupted (failed or cancelled) calibration.
    void resumeRequested(qint64 runId);
    /// A status-bar message; `error` for failures that are not fatal.
    void message(const QString& text, bool error);

private:
    void showContextMenu(const QPoint& position);
    void askRename(qint64 id);
    void askTags(qint64 id);
    void askDelete(const QList<qint64>& ids);

    std::unique_ptr<core::Workspace> m_workspace;
    RunsTableModel* m_model = nullptr;
    RunsFilterModel* m_filter = nullptr;
    QLineEdit* m_filterEdit = nullptr;
    QCheckBox* m_groupSeeds = nullptr;
    QTableView* m_view = nullptr;
};

} // namespace app
