#pragma once
// `quantscope adapt RUN_ID --text FILE` and the workbench's "Adapt to text…" (LRQuant's test-time
// adaptation, Zhao et al. ACL 2024; METHODS.md §9.3): a copy of a finished LRQuant or OmniQuant
// run whose last decoder block is re-quantized from its FP weights with fresh smoothing (s = 1,
// δ = 0) and clipping, trained on the windows of an evaluation text to match the FP model's last
// block (MSE + NLC, 5 epochs), then scored on that text. The result is a new run of kind "tta"
// whose parent is the adapted run; the parent is never changed. Its numbers come from the text
// they were scored on, so they are labelled TTA everywhere and never mixed with PTQ numbers.
// Torch-free interface.

#include "config/run_config.h"
#include "store/workspace.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <functional>
#include <string>

namespace core {

struct AdaptJobParams {
    std::int64_t parentRunId = 0;
    AdaptationConfig adaptation; ///< text and training settings (config/run_config.h)
    std::string name;            ///< "" = "<parent name> TTA <text>"
};

struct AdaptJobResult {
    std::int64_t runId = 0;
    std::int64_t parentRunId = 0;
    std::string name;
    std::string dataset;           ///< the text's file name without extension
    double perplexity = 0.0;       ///< the adapted model on the text
    double parentPerplexity = 0.0; ///< the parent run's model on the same windows
    double fpPerplexity = 0.0;     ///< the FP model on the same windows
    std::int64_t windows = 0;
    std::int64_t seqLen = 0;
    double seconds = 0.0;
};

/// Runs on the calling thread. Problems found before any work (unknown or unfinished parent, a
/// method without the LET machinery, a text shorter than one window, a bad option) throw
/// core::Error and record nothing; once the run exists, a failure marks it failed and a cancel
/// marks it cancelled (core::Cancelled). Progress stages "load", "adapt", "eval".
AdaptJobResult runAdaptJob(Workspace& workspace, const AdaptJobParams& params, const ProgressCallback& onProgress = {},
                           const CancelToken& cancel = {},
                           const std::function<void(std::int64_t runId)>& onRunCreated = {});

} // namespace core
