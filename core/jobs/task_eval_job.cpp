#include "jobs/task_eval_job.h"

#include "jobs/finished_run.h"
#include "jobs/run_model.h"
#include "jobs/zero_shot_eval.h"
#include "store/workspace.h"
#include "util/error.h"

#include <optional>

namespace core {

TaskEvalJobResult runTaskEvalJob(const TaskEvalJobParams& params, const ProgressCallback& onProgress,
                                 const CancelToken& cancel)
{
    if (params.tasks.empty())
        throw Error("eval: no task given");
    reportProgress(onProgress, {"load", 0.0, "reading the tasks"});
    const std::vector<EvalTaskConfig> resolved = resolveTaskFiles(params.tasks);
    const std::vector<ZeroShotTask> tasks = loadTasks(resolved);

    TaskEvalJobResult result;
    std::optional<Workspace> workspace;
    ZeroShotOptions options;
    std::optional<DecoderModel> model;
    if (params.runId > 0) {
        workspace.emplace(params.workspace);
        const FinishedRun run = loadFinishedRun(*workspace, params.runId, "eval");
        result.runId = params.runId;
        result.modelDir = run.config.model;
        options = zeroShotOptionsOf(run.config);
        model.emplace(run.config.model);
        reportProgress(onProgress, {"load", 0.0, "loading run " + std::to_string(params.runId)});
        loadStoredModel(*model, ArtifactFile(workspace->artifactPath(params.runId), ArtifactMode::ReadOnly));
    } else {
        result.modelDir = params.modelDir;
        model.emplace(params.modelDir);
    }
    options.bos = parseBosPolicy(params.bos);
    options.shareContexts = params.shareContexts;

    result.scores = scoreTasks(*model, tasks, options, onProgress, cancel);
    result.averageAccuracy = averageAccuracy(result.scores);
    if (workspace)
        workspace->catalog().addTaskMetrics(params.runId, taskMetricRecords(result.scores));
    reportProgress(onProgress, {"eval", 1.0, "done"});
    return result;
}

} // namespace core
