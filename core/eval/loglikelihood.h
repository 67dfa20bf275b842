#pragma once
// Log-likelihoods of continuations given contexts, computed as lm-evaluation-harness's
// HFLM._loglikelihood_tokens computes them: the input is (context + continuation), its last
// maxLength + 1 tokens, without the last one (long contexts lose their first tokens); the
// continuation's log-probabilities under log_softmax of the logits, summed in float32; greedy
// when every continuation token is the argmax.
//
// Speed: requests whose (truncated) contexts are the same token sequence share one forward of
// that context. Their continuations are packed behind it in one row, each attending to the
// context and to its own earlier tokens at the positions it would have alone
// (model/decoder_forward.h, packed AttentionContext), so a choice's numbers are those of its own
// forward up to float32 rounding of the differently shaped products.

#include "model/decoder_model.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <cstdint>
#include <vector>

namespace core {

struct LoglikelihoodRequest {
    std::vector<std::int64_t> context;      ///< at least one token (harness: the prefix token for "")
    std::vector<std::int64_t> continuation; ///< at least one token, at most maxLength
};

struct Loglikelihood {
    double logLikelihood = 0.0; ///< nats, the sum over the continuation's tokens
    bool greedy = false;        ///< every continuation token is the argmax of its logits
};

struct LoglikelihoodOptions {
    std::int64_t maxLength = 0;       ///< tokens the model sees at once (the harness's max_length); required
    bool shareContexts = true;        ///< false: one row per request (the harness's own way; the benchmark's baseline)
    std::int64_t tokensPerBatch = 0;  ///< padded tokens per forward; 0 = max(maxLength, 2048)
    std::int64_t maxRowsPerBatch = 0; ///< 0 = no limit; 1 when a per-tensor activation quantizer must see one request
    ForwardHooks hooks;               ///< the run's activation/KV fake-quant
};

/// One result per request, in order. Runs on the calling thread; checks `cancel` after every
/// block of every batch. Throws core::Error for an empty context or continuation, or a
/// continuation longer than maxLength.
std::vector<Loglikelihood> scoreLoglikelihoods(const DecoderModel& model,
                                               const std::vector<LoglikelihoodRequest>& requests,
                                               const LoglikelihoodOptions& options,
                                               const ProgressCallback& onProgress = {}, const CancelToken& cancel = {});

} // namespace core
