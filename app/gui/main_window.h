#pragma once
// The workbench window. For now: a model picker with the chosen model's summary, and the
// runs of the open workspace in a dock.

#include "config/run_config.h"
#include "gui/settings.h"
#include "jobs/model_info.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QMainWindow>

#include <memory>
#include <optional>

class QComboBox;
class QProgressBar;
class QPushButton;
class QTabWidget;

namespace widgets {
class CurvePlot;
}

namespace widgets {
class ModelInfoPanel;
}

namespace app {

class CalibrationRunner;
class CompareView;
class LayerInspector;
class LiveRunView;
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
    /// Starts `config` in the open workspace on a worker thread (progress and Cancel in the
    /// status bar); false when a calibration runs already or no workspace is open.
    bool startCalibration(const core::RunConfig& config);
    /// Opens the New Calibration dialog filled with run `runId`'s config.
    void rerun(qint64 runId);
    /// Exports finished run `runId` into `directory` on a worker thread (result in the status
    /// bar and exportDone()).
    void exportRunModel(qint64 runId, const QString& directory);
    /// Starts LRQuant's test-time adaptation of finished run `runId` to `textPath` (default
    /// settings) like a calibration: progress and Cancel in the status bar, a new TTA run.
    bool startAdaptation(qint64 runId, const QString& textPath);
    /// Starts PTQ1.61's quantization preprocessing of finished run `runId` (LoRA with the default
    /// settings on its calibration text, merged, then its config calibrated again on the merged model).
    bool startPreprocessing(qint64 runId);
    /// Continues an interrupted (failed or cancelled) calibration from its checkpoint.
    bool resumeRun(qint64 runId);
    CalibrationRunner* runner() const { return m_runner; }
    LayerInspector* inspector() const { return m_inspector; }
    CompareView* compareView() const { return m_compare; }
    widgets::CurvePlot* liveLossPlot() const;
    LiveRunView* liveView() const { return m_live; }

Q_SIGNALS:
    void modelShown(const QString& directory);
    void modelFailed(const QString& message);
    /// An export ended: `error` empty on success.
    void exportDone(qint64 runId, const QString& directory, const QString& error);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void browseForModel();
    void browseForWorkspace();
    void showNewCalibration();
    void openCalibrationDialog(const std::optional<core::RunConfig>& initial);
    void askExport(qint64 runId);
    void askAdapt(qint64 runId);
    /// A job started: the clock for its ETA, the progress bar and Cancel, `message` in the status bar.
    void showJobStarted(const QString& message);
    void showAbout();
    /// " · ETA m:ss" for the running job at `fraction` done ("" while too early to say).
    QString etaText(double fraction) const;
    void onModelRead();

    Settings m_settings;
    QComboBox* m_modelPicker = nullptr;
    widgets::ModelInfoPanel* m_infoPanel = nullptr;
    RunsPanel* m_runsPanel = nullptr;
    LayerInspector* m_inspector = nullptr;
    CompareView* m_compare = nullptr;
    QTabWidget* m_tabs = nullptr;
    CalibrationRunner* m_runner = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    LiveRunView* m_live = nullptr;
    QElapsedTimer m_runClock; ///< since the running job started (ETA)
    QFutureWatcher<ModelInfoOutcome> m_infoWatcher;
    QFutureWatcher<QString> m_exportWatcher; ///< the export's error, "" on success
    QString m_pendingDirectory;
};

} // namespace app
