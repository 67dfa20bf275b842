#include "gui/calibration_runner.h"

#include "jobs/calibrate_job.h"
#include "store/workspace.h"

#include <QtConcurrent>

#include <chrono>
#include <cmath>

namespace app {
namespace {

QString summaryOf(const core::CalibrationJobResult& result)
{
    QStringList datasets;
    for (const auto& d : result.datasets)
        datasets << QStringLiteral("%1 %2 (%3%4 %)")
                        .arg(QString::fromStdString(d.dataset))
                        .arg(d.perplexity, 0, 'f', 2)
                        .arg(d.perplexity >= d.fpPerplexity ? "+" : "")
                        .arg(100.0 * (d.perplexity / d.fpPerplexity - 1.0), 0, 'f', 2);
    return QStringLiteral("run %1: %2 — %3")
        .arg(result.runId)
        .arg(QString::fromStdString(result.name), datasets.join(QStringLiteral(", ")));
}

} // namespace

CalibrationRunner::CalibrationRunner(QObject* parent) : QObject(parent)
{
    connect(&m_watcher, &QFutureWatcher<CalibrationOutcome>::finished, this, &CalibrationRunner::onDone);
}

CalibrationRunner::~CalibrationRunner()
{
    m_watcher.disconnect(this);
    m_cancel.requestCancel();
    m_watcher.waitForFinished();
}

bool CalibrationRunner::start(const QString& workspaceDirectory, const core::RunConfig& config)
{
    return startJob(workspaceDirectory, [config](core::Workspace& workspace, const core::ProgressCallback& onProgress,
                                                 const core::CancelToken& cancel,
                                                 const std::function<void(std::int64_t)>& onRunCreated) {
        const auto result = core::runCalibrationJob(workspace, config, onProgress, cancel, onRunCreated);
        return std::make_pair(static_cast<qint64>(result.runId), summaryOf(result));
    });
}

bool CalibrationRunner::startResume(const QString& workspaceDirectory, qint64 runId)
{
    return startJob(workspaceDirectory,
                    [runId](core::Workspace& workspace, const core::ProgressCallback& onProgress,
                            const core::CancelToken& cancel, const std::function<void(std::int64_t)>& onRunCreated) {
                        onRunCreated(runId); // the live view follows the resumed run
                        const auto result = core::resumeCalibrationJob(workspace, runId, onProgress, cancel);
                        return std::make_pair(static_cast<qint64>(result.runId), summaryOf(result));
                    });
}

bool CalibrationRunner::startAdaptation(const QString& workspaceDirectory, const core::AdaptJobParams& params)
{
    return startJob(workspaceDirectory, [params](core::Workspace& workspace, const core::ProgressCallback& onProgress,
                                                 const core::CancelToken& cancel,
                                                 const std::function<void(std::int64_t)>& onRunCreated) {
        const auto result = core::runAdaptJob(workspace, params, onProgress, cancel, onRunCreated);
        const QString summary = QStringLiteral("run %1: %2 — %3 %4 TTA (run %5: %6, FP %7)")
                                    .arg(result.runId)
                                    .arg(QString::fromStdString(result.name), QString::fromStdString(result.dataset))
                                    .arg(result.perplexity, 0, 'f', 2)
                                    .arg(result.parentRunId)
                                    .arg(result.parentPerplexity, 0, 'f', 2)
                                    .arg(result.fpPerplexity, 0, 'f', 2);
        return std::make_pair(static_cast<qint64>(result.runId), summary);
    });
}

bool CalibrationRunner::startPreprocessing(const QString& workspaceDirectory, const core::PreprocessJobParams& params)
{
    return startJob(workspaceDirectory, [params](core::Workspace& workspace, const core::ProgressCallback& onProgress,
                                                 const core::CancelToken& cancel,
                                                 const std::function<void(std::int64_t)>& onRunCreated) {
        const auto result = core::runPreprocessJob(workspace, params, onProgress, cancel, onRunCreated);
        return std::make_pair(static_cast<qint64>(result.second.runId),
                              summaryOf(result.second) +
                                  QStringLiteral(" (preprocessed from run %1)").arg(params.parentRunId));
    });
}

bool CalibrationRunner::startJob(const QString& workspaceDirectory, Job job)
{
    if (isRunning())
        return false;
    m_cancel = core::CancelToken();
    const core::CancelToken cancel = m_cancel;
    const std::string directory = workspaceDirectory.toStdString();
    m_watcher.setFuture(QtConcurrent::run([this, directory, job, cancel] {
        CalibrationOutcome outcome;
        // Progress is throttled here, on the worker: the job reports every batch. Training
        // steps with loss values (every 16th optimizer step) always pass: they feed the live plot.
        auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
        std::string lastStage;
        const auto onProgress = [&](const core::ProgressEvent& event) {
            const auto now = std::chrono::steady_clock::now();
            if (event.values.empty() && event.stage == lastStage && now - last < std::chrono::milliseconds(100) &&
                event.fraction < 1.0)
                return;
            last = now;
            lastStage = event.stage;
            QStringList names;
            QVector<double> values;
            for (const auto& [name, value] : event.values) {
                names << QString::fromStdString(name);
                values << value;
            }
            Q_EMIT progress(QString::fromStdString(event.stage), event.fraction, QString::fromStdString(event.message),
                            names, values);
        };
        try {
            core::Workspace workspace(directory); // this thread's own SQLite connection
            const auto [runId, summary] = job(workspace, onProgress, cancel, [&](std::int64_t id) {
                outcome.runId = id;
                Q_EMIT runCreated(id);
            });
            outcome.runId = runId;
            outcome.summary = summary;
        } catch (const core::Cancelled&) {
            outcome.cancelled = true;
        } catch (const std::exception& e) {
            outcome.error = QString::fromStdString(e.what());
        }
        return outcome;
    }));
    return true;
}

void CalibrationRunner::cancel()
{
    m_cancel.requestCancel();
}

void CalibrationRunner::onDone()
{
    const CalibrationOutcome outcome = m_watcher.result();
    if (outcome.cancelled)
        Q_EMIT cancelled();
    else if (!outcome.error.isEmpty())
        Q_EMIT failed(outcome.error);
    else
        Q_EMIT finished(outcome.runId, outcome.summary);
}

} // namespace app
