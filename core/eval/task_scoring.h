#pragma once
// A zero-shot task's metrics as lm-evaluation-harness reports them (METHODS.md §10.2):
// - multiple choice: acc = argmax of the summed log-likelihood is gold; acc_norm = argmax of
//   log-likelihood / len(choice) in code points (the harness's process_results divides by
//   Python's len of the choice string); acc_bytes = the same over UTF-8 bytes (an extra);
// - log-likelihood (LAMBADA): acc = the continuation is the greedy one, perplexity =
//   exp(−mean log-likelihood);
// - stderr of a mean = sample standard deviation (n − 1) / √n (the harness's mean_stderr);
//   perplexity's, which the harness bootstraps, is left NaN. Ties go to the first choice (np.argmax).

#include "eval/harness_encoding.h"
#include "eval/loglikelihood.h"
#include "eval/task_score.h"
#include "eval/zero_shot_task.h"

#include <vector>

namespace core {

/// Metrics of `task` from the log-likelihoods of its requests, document by document
/// (results[d][i] for request i of document d).
TaskScore taskMetrics(const ZeroShotTask& task, const std::vector<std::vector<Loglikelihood>>& results);

/// Encodes every request the harness's way, scores them on `model` and returns the metrics.
TaskScore scoreZeroShotTask(const DecoderModel& model, const HarnessEncoder& encoder, const ZeroShotTask& task,
                            const LoglikelihoodOptions& options, const ProgressCallback& onProgress = {},
                            const CancelToken& cancel = {});

} // namespace core
