#pragma once
// `quantscope eval --task`: zero-shot tasks on a model directory or on a finished run (its
// stored weights with its activation/KV quantization); a run's results go into its catalog.
// Torch-free interface.

#include "config/run_config.h"
#include "eval/task_score.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace core {

struct TaskEvalJobParams {
    std::vector<EvalTaskConfig> tasks;
    std::string modelDir;          ///< the model to score; ignored when runId is set
    std::int64_t runId = 0;        ///< a finished run of `workspace`; 0 = score modelDir
    std::string workspace;         ///< for runId
    std::string bos = "tokenizer"; ///< eval/harness_encoding.h BosPolicy names
    bool shareContexts = true;
};

struct TaskEvalJobResult {
    std::string modelDir;
    std::int64_t runId = 0;
    std::vector<TaskScore> scores;
    double averageAccuracy = std::numeric_limits<double>::quiet_NaN(); ///< mean acc over the tasks
};

/// Reads every task first, then loads the model (or the run) and scores them in order, on the
/// calling thread. Throws core::Error (task files, model, run not finished) or core::Cancelled.
TaskEvalJobResult runTaskEvalJob(const TaskEvalJobParams& params, const ProgressCallback& onProgress = {},
                                 const CancelToken& cancel = {});

} // namespace core
