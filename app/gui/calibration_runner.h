#pragma once
// Runs one calibration job (core::runCalibrationJob), one test-time adaptation of a finished run
// (core::runAdaptJob) or one preprocessing and second calibration (core::runPreprocessJob), on a worker thread for the
// window: progress arrives as queued signals (at most every 100 ms, and at each stage change), cancel() asks the job to
// stop at its next check, and every exception is caught on the worker and reported as failed(message). One job at a
// time.

#include "config/run_config.h"
#include "jobs/adapt_job.h"
#include "jobs/preprocess_job.h"
#include "util/cancel_token.h"

#include <QFutureWatcher>

#include <QObject>
#include <QString>
#include <functional>

namespace app {

struct CalibrationOutcome {
    qint64 runId = 0;
    QString summary; ///< "run 7: gptq w3g128 — brown_test 55.95 (+1.1 %)"
    QString error;   ///< non-empty: the job failed
    bool cancelled = false;
};

class CalibrationRunner : public QObject {
    Q_OBJECT
public:
    explicit CalibrationRunner(QObject* parent = nullptr);
    /// Cancels a running job and waits for it: a job never outlives the window.
    ~CalibrationRunner() override;

    bool isRunning() const { return m_watcher.isRunning(); }
    /// Starts `config` in the workspace at `workspaceDirectory`; false when a job runs already.
    bool start(const QString& workspaceDirectory, const core::RunConfig& config);
    /// Starts the test-time adaptation `params`; false when a job runs already.
    bool startAdaptation(const QString& workspaceDirectory, const core::AdaptJobParams& params);
    /// Starts PTQ1.61's preprocessing `params` (LoRA, merge, second calibration); false when a job runs.
    bool startPreprocessing(const QString& workspaceDirectory, const core::PreprocessJobParams& params);
    /// Continues interrupted run `runId` from its checkpoint (core::resumeCalibrationJob); false
    /// when a job runs already.
    bool startResume(const QString& workspaceDirectory, qint64 runId);
    void cancel();

Q_SIGNALS:
    void runCreated(qint64 runId);
    /// `names`/`values`: the step's named numbers (learning methods: "step", each loss term,
    /// "total"); empty for other steps.
    void progress(const QString& stage, double fraction, const QString& message, const QStringList& names,
                  const QVector<double>& values);
    void finished(qint64 runId, const QString& summary);
    void failed(const QString& message);
    void cancelled();

private:
    /// The job's body on the worker: runs it in `workspace`, returns its run id and summary.
    using Job = std::function<std::pair<qint64, QString>(
        core::Workspace& workspace, const core::ProgressCallback& onProgress, const core::CancelToken& cancel,
        const std::function<void(std::int64_t)>& onRunCreated)>;
    bool startJob(const QString& workspaceDirectory, Job job);
    void onDone();

    QFutureWatcher<CalibrationOutcome> m_watcher;
    core::CancelToken m_cancel;
};

} // namespace app
