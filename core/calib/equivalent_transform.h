#pragma once
// OmniQuant's learnable equivalent transformation (LET; Shao et al. ICLR 2024, METHODS.md
// §3.3) for a LLaMA block, weight-only and without shifts (OmniQuant disables shifts for
// LLaMA). Four learnable per-channel scales, each folded so that the FP block computes
// exactly the same function:
//   attn:  input_layernorm.weight / s,          q/k/v columns · s
//   mlp:   post_attention_layernorm.weight / s, gate/up columns · s
//   vo:    v_proj rows / s,  o_proj columns · s (repeated over the query heads of a KV head)
//   qk:    q_proj rows / s,  k_proj rows · s, tied over each RoPE pair (i, i + d/2) and over
//          the query heads of a KV head, so QKᵀ is exactly invariant (the reference does not
//          tie them; METHODS.md §3.7)
// The quantizer then sees the transformed weights, whose columns are easier or harder to
// quantize depending on s: that is what training tunes.

#include "model/decoder_forward.h"

#include <map>
#include <string>
#include <vector>

namespace core {

class EquivalentTransform {
public:
    /// `inputAbsMax`: per input channel max |x| of the q_proj, o_proj and gate_proj inputs
    /// (by short Linear name). The scales start at SmoothQuant's max|X|^α / max|W|^(1−α)
    /// (qk at 1). Throws core::Error for a model family other than LLaMA.
    EquivalentTransform(const ModelConfig& config, const BlockWeights& fp,
                        const std::map<std::string, torch::Tensor>& inputAbsMax, double alpha = 0.5);

    /// `fp` with the scales folded in (differentiable in them).
    BlockWeights apply(const BlockWeights& fp) const;
    /// Per input column of Linear `shortName`, the factor its inputs are divided by
    /// (undefined for down_proj, whose input is not transformed).
    torch::Tensor inputScale(const std::string& shortName) const;

    std::vector<torch::Tensor> parameters() const { return {m_attn, m_mlp, m_vo, m_qk}; }

private:
    torch::Tensor scale(const torch::Tensor& raw) const; ///< clamped ≥ 1e-2, as OmniQuant truncates
    torch::Tensor perQueryChannel(const torch::Tensor& perKvChannel) const; ///< [kv·d] → [heads·d]
    torch::Tensor qkPerKvChannel() const;                                   ///< [kv·d/2] → [kv·d]

    ModelConfig m_config;
    torch::Tensor m_attn, m_mlp, m_vo, m_qk;
};

} // namespace core
