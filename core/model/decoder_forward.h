#pragma once
// The llama and opt decoders as plain functions over weight tensors, with
// Hugging Face semantics (rotate-half RoPE, causal mask, float32 norms).
// Plain tensors rather than nn::Modules so that calibration methods can swap a
// Linear's weight for its quantized or learnable version without copying a model.

#include "io/model_config.h"
#include "model/forward_hooks.h"

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace core {

/// Weights of one decoder block keyed by short name ("self_attn.q_proj.weight",
/// "input_layernorm.weight", ...; see blockTensorSpecs()).
struct BlockWeights {
    std::map<std::string, torch::Tensor> tensors;
    /// Throws core::Error when the tensor is missing.
    const torch::Tensor& at(const std::string& shortName) const;
    /// Undefined tensor when absent (optional biases).
    torch::Tensor optional(const std::string& shortName) const;
};

/// Embedding, positions (OPT), final norm and output head.
struct GlobalWeights {
    torch::Tensor embedTokens;
    torch::Tensor embedPositions; ///< OPT only
    torch::Tensor finalNormWeight;
    torch::Tensor finalNormBias; ///< OPT only
    torch::Tensor lmHead;        ///< the embedding itself when tied
};

/// Attention mask and rotary tables, built once and reused across blocks. Two layouts:
/// - causal: every row of the batch holds one sequence at positions 0…T−1 (the usual forward);
/// - packed: each row holds several sequences that share a prefix (zero-shot scoring, where
///   the choices of a question share its context): token t of row b sits at positions[b][t]
///   and attends to the tokens `allowed[b][t]` marks. A token's computation is then exactly
///   that of the same token in its own unpacked sequence.
class AttentionContext {
public:
    AttentionContext(const ModelConfig& config, std::int64_t seqLen, torch::Device device);
    /// positions [B, T] int64 (each < the model's context), allowed [B, T, T] bool (every token
    /// allowed to see itself). Throws core::Error for shapes that do not match.
    AttentionContext(const ModelConfig& config, const torch::Tensor& positions, const torch::Tensor& allowed);

    bool packed() const { return m_positions.defined(); }
    std::int64_t seqLen() const { return m_seqLen; }
    /// Additive mask (0 or −inf) for rows [first, first+count) of a batch of `seqLen` tokens,
    /// broadcastable over [count, heads, seqLen, seqLen].
    torch::Tensor maskRows(std::int64_t first, std::int64_t count, std::int64_t seqLen) const;
    /// RoPE tables for `seqLen` tokens, broadcastable over the [B, T, heads, d] layout (LLaMA).
    torch::Tensor ropeCos(std::int64_t seqLen) const;
    torch::Tensor ropeSin(std::int64_t seqLen) const;
    /// The packed layout's positions [B, T]; undefined for the causal one (0…T−1).
    const torch::Tensor& positions() const { return m_positions; }
    const torch::Tensor& causalMask() const { return m_mask; } ///< [T, T] (causal) or [B, 1, T, T] (packed)

private:
    std::int64_t m_seqLen;
    torch::Tensor m_mask;
    torch::Tensor m_cos; ///< [T, d] (causal) or [B, T, d] (packed)
    torch::Tensor m_sin;
    torch::Tensor m_positions;
};

/// Token ids [B, T] (int64) → hidden states [B, T, H] (adds OPT's learned positions: 0…T−1, or
/// `positions` [B, T] when defined, a packed AttentionContext's).
torch::Tensor embedTokens(const ModelConfig& config, const GlobalWeights& weights, const torch::Tensor& ids,
                          const torch::Tensor& positions = {});

/// One decoder block. `layerPrefix` is blockPrefix(config, i); `hooks` may be null or empty
/// (model/forward_hooks.h). Without hooks the block computes exactly what it did before hooks
/// existed (the same operations), so callers pass their hooks whether or not they hold any.
torch::Tensor decoderBlock(const ModelConfig& config, const BlockWeights& weights, const torch::Tensor& hidden,
                           const AttentionContext& attention, const std::string& layerPrefix,
                           const ForwardHooks* hooks = nullptr);

/// Final norm and output head: [B, T, H] → logits [B, T, V].
torch::Tensor outputLogits(const ModelConfig& config, const GlobalWeights& weights, const torch::Tensor& hidden);

/// HF LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · w, computed in float32.
torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

} // namespace core
