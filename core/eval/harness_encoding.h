#pragma once
// How lm-evaluation-harness turns a (context, continuation) pair into tokens (HFLM, causal;
// TemplateLM._encode_pair and loglikelihood): trailing whitespace of the context moves to the
// continuation; context + continuation is tokenized as one string and split at the length of
// the context's own tokens (so a token that straddles the boundary is scored as continuation);
// an empty context becomes the prefix token (BOS, else EOS). Torch-free.

#include "io/tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace core {

/// Whether each encoded string starts with the BOS token.
enum class BosPolicy {
    Tokenizer, ///< what the model's tokenizer adds (tokenizer_config.json add_bos_token, else the
               ///< family's HF default: LLaMA and OPT add one): the harness since PR #3347
    Never,     ///< no special tokens: the harness's HFLM default before PR #3347 (add_bos_token=False)
    Always,    ///< HFLM add_bos_token=True
};

/// "tokenizer", "never", "always". parseBosPolicy throws core::Error naming an unknown value.
std::string bosPolicyName(BosPolicy policy);
BosPolicy parseBosPolicy(const std::string& name);

/// The token-level view of one model's tokenizer for the harness's requests.
struct HarnessEncoder {
    const Tokenizer& tokenizer;
    bool addBos = false;    ///< prepend bosId to every encoded string
    std::int64_t bosId = 1; ///< the model's BOS (the prefix token of an empty context)

    /// tok_encode(s): the tokenizer's ids, after BOS when addBos.
    std::vector<std::int64_t> encode(const std::string& text) const;
};

/// Whether the tokenizer in `modelDir` adds BOS under `policy` (reads tokenizer_config.json).
bool addsBos(const std::string& modelDir, BosPolicy policy);

struct EncodedPair {
    std::vector<std::int64_t> context;
    std::vector<std::int64_t> continuation;
};

/// The harness's (context_enc, continuation_enc) for one request. Throws core::Error when the
/// continuation encodes to no tokens (nothing to score).
EncodedPair encodeRequest(const HarnessEncoder& encoder, const std::string& context, const std::string& continuation);

} // namespace core
