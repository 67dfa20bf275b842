#include "jobs/zero_shot_eval.h"

#include "io/tokenizer.h"
#include "quant/activation_quantizer.h"
#include "util/error.h"

#include <filesystem>

namespace core {

std::vector<EvalTaskConfig> resolveTaskFiles(const std::vector<EvalTaskConfig>& tasks)
{
    namespace fs = std::filesystem;
    std::vector<EvalTaskConfig> resolved = tasks;
    for (EvalTaskConfig& task : resolved) {
        if (task.file.empty())
            task.file = bundledTaskFile(task.name); // throws for a name that is not bundled
        task.file = fs::absolute(task.file).lexically_normal().string();
        if (!fs::is_regular_file(task.file))
            throw Error("task " + task.name + ": " + task.file + ": no such file");
        if (!task.labels.empty()) {
            task.labels = fs::absolute(task.labels).lexically_normal().string();
            if (!fs::is_regular_file(task.labels))
                throw Error("task " + task.name + ": labels " + task.labels + ": no such file");
        }
    }
    return resolved;
}

std::vector<ZeroShotTask> loadTasks(const std::vector<EvalTaskConfig>& resolved)
{
    std::vector<ZeroShotTask> tasks;
    for (const EvalTaskConfig& task : resolved)
        tasks.push_back(loadZeroShotTask(task.name, task.file, task.labels, task.limit));
    return tasks;
}

std::vector<TaskScore> scoreTasks(const DecoderModel& model, const std::vector<ZeroShotTask>& tasks,
                                  const ZeroShotOptions& options, const ProgressCallback& onProgress,
                                  const CancelToken& cancel)
{
    const auto tokenizer = loadTokenizer(model.directory());
    const HarnessEncoder encoder{*tokenizer, addsBos(model.directory(), options.bos), model.config().bosTokenId};
    LoglikelihoodOptions scoring;
    // HFLM's max_length: the model config's max_position_embeddings.
    scoring.maxLength = model.config().maxPositions;
    scoring.hooks = options.hooks;
    scoring.shareContexts = options.shareContexts && !options.perTensorActivations;
    scoring.maxRowsPerBatch = options.perTensorActivations ? 1 : 0;
    std::vector<TaskScore> scores;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
        const auto progress = [&](const ProgressEvent& event) {
            reportProgress(onProgress,
                           {event.stage, (static_cast<double>(t) + event.fraction) / static_cast<double>(tasks.size()),
                            event.message});
        };
        scores.push_back(scoreZeroShotTask(model, encoder, tasks[t], scoring, progress, cancel));
    }
    return scores;
}

std::vector<TaskMetricRecord> taskMetricRecords(const std::vector<TaskScore>& scores)
{
    std::vector<TaskMetricRecord> rows;
    for (const TaskScore& score : scores)
        for (const TaskMetric& metric : score.metrics)
            rows.push_back(
                {score.task, metric.name, metric.value, metric.standardError, score.documents, metric.reported});
    return rows;
}

ZeroShotOptions zeroShotOptionsOf(const RunConfig& config)
{
    ZeroShotOptions options;
    options.bos = parseBosPolicy(config.eval.bos);
    options.hooks = streamQuantizationHooks(config.activations, config.kv);
    options.perTensorActivations =
        config.activations.enabled() && config.activations.granularity == ActivationGranularity::PerTensor;
    return options;
}

} // namespace core
