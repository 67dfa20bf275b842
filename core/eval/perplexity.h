#pragma once
// Perplexity with the convention of the GPTQ reference code (IST-DASLab/gptq
// llama_eval; METHODS.md §10.1): the whole text tokenized once with one BOS,
// floor(tokens / seqLen) non-overlapping windows, each a fresh context, and
// ppl = exp(mean next-token NLL over all predicted positions of all windows).

#include "model/decoder_model.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <cstdint>
#include <vector>

namespace core {

struct PerplexityOptions {
    std::int64_t seqLen = 512;
    std::int64_t maxWindows = 0; ///< 0 = every full window of the text
    std::int64_t batchSize = 0;  ///< windows per forward pass; 0 = defaultEvalBatchWindows()
    /// The run's activation/KV fake-quant (quant/activation_quantizer.h); empty: none.
    ForwardHooks hooks;
};

struct PerplexityResult {
    double perplexity = 0.0;
    double meanNll = 0.0;    ///< nats per predicted token
    std::int64_t tokens = 0; ///< tokens of the whole text (with BOS)
    std::int64_t windows = 0;
    std::int64_t seqLen = 0;
};

/// Windows per forward pass when PerplexityOptions::batchSize is 0: as many as keep a batch's
/// logits under 512 MB and its MLP activations under 8 MB (cache-friendly element-wise passes),
/// 1 to 16.
std::int64_t defaultEvalBatchWindows(const ModelConfig& config, std::int64_t seqLen);

/// The windows perplexity scores: floor(tokens / seqLen) non-overlapping windows of `ids` (the
/// first `maxWindows` when > 0), [windows, seqLen] int64. Throws core::Error when the text is
/// shorter than one window. TTA and LoRA preprocessing train on the same cut.
torch::Tensor evaluationWindows(const std::vector<std::int64_t>& ids, std::int64_t seqLen, std::int64_t maxWindows);

/// Runs on the calling thread; checks `cancel` after every block of every batch
/// and throws core::Cancelled. Throws core::Error when the text is shorter than
/// one window or seqLen is out of range for the model.
PerplexityResult evaluatePerplexity(const DecoderModel& model, const std::vector<std::int64_t>& ids,
                                    const PerplexityOptions& options, const ProgressCallback& onProgress = {},
                                    const CancelToken& cancel = {});

} // namespace core
