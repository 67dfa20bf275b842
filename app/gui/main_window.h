#pragma once
// The workbench window. For now: a model picker with the chosen model's summary, and the
// runs of the open workspace in a dock.

#include "gui/settings.h"
#include "jobs/model_info.h"

#include <QFutureWatcher>
#include <QMainWindow>

#include <optional>

class QComboBox;

namespace widgets {
class ModelInfoPanel;
}

namespace app {

class RunsPanel;

/// Result of reading a model on a worker thread: exceptions never cross threads.
struct ModelInfoOutcome {
    std::optional<core::ModelInfo> info;
    QString error;
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Reads `directory` in the background and shows it; emits modelShown or modelFailed.
    void openModel(const QString& directory);
    widgets::ModelInfoPanel* infoPanel() const { return m_infoPanel; }
    RunsPanel* runsPanel() const { return m_runsPanel; }
    /// Opens the workspace in the runs panel and remembers it.
    bool openWorkspace(const QString& directory);

Q_SIGNALS:
    void modelShown(const QString& directory);
    void modelFailed(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void browseForModel();
    void browseForWorkspace();
    void showAbout();
    void onModelRead();

    Settings m_settings;
    QComboBox* m_modelPicker = nullptr;
    widgets::ModelInfoPanel* m_infoPanel = nullptr;
    RunsPanel* m_runsPanel = nullptr;
    QFutureWatcher<ModelInfoOutcome> m_infoWatcher;
    QString m_pendingDirectory;
};

} // namespace app
