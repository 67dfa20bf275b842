#pragma once
// Zero-shot tasks inside jobs: a run's eval.tasks after its perplexities, and `quantscope eval
// --task` on a model or a finished run. Resolves bundled task names to their files, reads every
// task before any forward (a bad file fails in seconds, not after calibration), and scores each
// with the harness's encoding and the run's activation/KV fake-quant.

#include "config/run_config.h"
#include "eval/task_scoring.h"
#include "store/catalog.h"

#include <vector>

namespace core {

/// `tasks` with every file absolute and a bundled task's file filled in where `file` is "".
/// Throws core::Error for a task without a file that is not bundled, or a file that is missing.
std::vector<EvalTaskConfig> resolveTaskFiles(const std::vector<EvalTaskConfig>& tasks);

/// Reads every task (files resolved). Throws what loadZeroShotTask throws.
std::vector<ZeroShotTask> loadTasks(const std::vector<EvalTaskConfig>& resolved);

struct ZeroShotOptions {
    BosPolicy bos = BosPolicy::Tokenizer;
    ForwardHooks hooks; ///< the run's activation/KV fake-quant
    /// A per-tensor activation quantizer ranges over its whole input: each request then gets a
    /// forward of its own, as it would in the harness with batch size 1.
    bool perTensorActivations = false;
    bool shareContexts = true; ///< false: one row per choice (the benchmark's baseline)
};

/// Scores every task on `model` (tokenizer from model.directory()), progress over all of them.
std::vector<TaskScore> scoreTasks(const DecoderModel& model, const std::vector<ZeroShotTask>& tasks,
                                  const ZeroShotOptions& options, const ProgressCallback& onProgress = {},
                                  const CancelToken& cancel = {});

/// The catalog rows of `scores` (every metric, reported or not).
std::vector<TaskMetricRecord> taskMetricRecords(const std::vector<TaskScore>& scores);

/// The options a run's config implies (eval.bos, activations, kv).
ZeroShotOptions zeroShotOptionsOf(const RunConfig& config);

} // namespace core
