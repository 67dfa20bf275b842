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

/// Causal mask and rotary tables for one sequence length, built once and reused across blocks.
class AttentionContext {
public:
    AttentionContext(const ModelConfig& config, std::int64_t seqLen, torch::Device device);
    const torch::Tensor& causalMask() const { return m_mask; } ///< [T, T], 0 or -inf
    const torch::Tensor& cos() const { return m_cos; }         ///< [T, headDim] (LLaMA)
    const torch::Tensor& sin() const { return m_sin; }
    std::int64_t seqLen() const { return m_seqLen; }

private:
    std::int64_t m_seqLen;
    torch::Tensor m_mask;
    torch::Tensor m_cos;
    torch::Tensor m_sin;
};

/// Token ids [B, T] (int64) → hidden states [B, T, H] (adds OPT's learned positions).
torch::Tensor embedTokens(const ModelConfig& config, const GlobalWeights& weights, const torch::Tensor& ids);

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
