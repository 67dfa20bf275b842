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
// LRQuant (Zhao et al., ACL 2024; METHODS.md §9.1) uses the same machinery with two changes:
// the scales start at s_j = a_j / log2(2 + a_j), so the smoothed channel maximum becomes
// log2(2 + a_j), and learnable shifts δ (init 0 for LLaMA) subtract from the attn, mlp and vo
// inputs before the division: the norms gain a bias −δ/s and the Linears reading them a bias
// W δ (v: (b − δ)/s, o: b + W_o δ), so the FP block still computes the same function. LLaMA
// checkpoints have no place for those biases, hence export refuses a run with shifts.

#include "model/decoder_forward.h"

#include <map>
#include <string>
#include <vector>

namespace core {

/// How the scales start, and whether shifts are learned.
struct EquivalentTransformInit {
    enum class Scale {
        SmoothQuant,   ///< OmniQuant: max|X|^α / max|W|^(1−α)
        LogActivation, ///< LRQuant: a / log2(2 + a), a = max|X| clamped ≥ 1e-5
        Ones,          ///< LRQuant's test-time adaptation (TTA.py): s = 1
    };
    Scale scale = Scale::SmoothQuant;
    double alpha = 0.5;  ///< SmoothQuant's exponent
    bool shifts = false; ///< learnable δ of the attn, mlp and vo sites, init 0
};

class EquivalentTransform {
public:
    /// `inputAbsMax`: per input channel max |x| of the q_proj, o_proj and gate_proj inputs
    /// (by short Linear name; LRQuant's statistics name up_proj, which reads the same input as
    /// gate_proj, and either is accepted). The qk scale starts at 1. Throws core::Error for a
    /// model family other than LLaMA.
    EquivalentTransform(const ModelConfig& config, const BlockWeights& fp,
                        const std::map<std::string, torch::Tensor>& inputAbsMax, double alpha = 0.5);
    EquivalentTransform(const ModelConfig& config, const BlockWeights& fp,
                        const std::map<std::string, torch::Tensor>& inputAbsMax, const EquivalentTransformInit& init);

    /// `fp` with the scales folded in (differentiable in them).
    BlockWeights apply(const BlockWeights& fp) const;
    /// Per input column of Linear `shortName`, the factor its inputs are divided by
    /// (undefined for down_proj, whose input is not transformed).
    torch::Tensor inputScale(const std::string& shortName) const;

    /// The scales, then the shifts when learned.
    std::vector<torch::Tensor> parameters() const;
    bool hasShifts() const { return m_attnShift.defined(); }

private:
    torch::Tensor scale(const torch::Tensor& raw) const; ///< clamped ≥ 1e-2, as OmniQuant truncates
    torch::Tensor perQueryChannel(const torch::Tensor& perKvChannel) const; ///< [kv·d] → [heads·d]
    torch::Tensor qkPerKvChannel() const;                                   ///< [kv·d/2] → [kv·d]

    ModelConfig m_config;
    torch::Tensor m_attn, m_mlp, m_vo, m_qk;
    torch::Tensor m_attnShift, m_mlpShift, m_voShift; ///< undefined without shifts
};

} // namespace core
