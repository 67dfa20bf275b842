#pragma once
// `quantscope eval`: perplexity of a model on one or more text files. Torch-free interface.

#include "util/cancel_token.h"
#include "util/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct EvalJobParams {
    std::string modelDir;
    std::vector<std::string> textPaths;
    std::int64_t seqLen = 0;     ///< 0 = the model's context (max_position_embeddings, at most 2048)
    std::int64_t maxWindows = 0; ///< 0 = all windows
};

struct TextPerplexity {
    std::string textPath;
    double perplexity = 0.0;
    double meanNll = 0.0;
    std::int64_t tokens = 0;
    std::int64_t windows = 0;
    std::int64_t seqLen = 0;
    double seconds = 0.0;
};

struct EvalJobResult {
    std::string modelDir;
    std::vector<TextPerplexity> texts;
};

/// Loads the model and tokenizer once, then evaluates every text in turn, on
/// the calling thread. Throws core::Error (model, tokenizer, text problems,
/// naming the file) or core::Cancelled.
EvalJobResult runEvalJob(const EvalJobParams& params, const ProgressCallback& onProgress = {},
                         const CancelToken& cancel = {});

} // namespace core
