#pragma once
// TesseraQ's learnable rounding (Li & Panda 2024, METHODS.md §4.1–4.2): on a fixed grid
// (scale s, zero z per group), every weight is ⌊W/s⌋ + h(α) with the rectified sigmoid
// h(α) = clamp(σ(α)(ζ − γ) + γ, 0, 1), γ = −0.1, ζ = 1.1 (AdaRound's form), initialized so
// that the soft weight equals W; progressive adaptive rounding (PAR) hardens the most
// decided variables step by step. Each group also learns a dequantization scale factor
// f = 2σ(v) (DST, init f = 1): W_q = s·f·(clamp(⌊W/s⌋ + h + z, 0, 2^N − 1) − z).
// Hardened variables are kept in a mask with their 0/1 value (not as ±∞ logits), so no
// optimizer state ever sees an infinity.

#include "quant/quantized_linear.h"

#include <torch/torch.h>

namespace core {

class SoftRounding {
public:
    /// `weight` [rows, cols] (frozen) on `grid` ([rows, groups] scale/zero, groups of
    /// `spec.groupSize` contiguous columns).
    SoftRounding(const torch::Tensor& weight, const QuantGrid& grid, const WeightQuantSpec& spec);

    /// The fake-quantized weight, differentiable in the rounding logits and the DST logits.
    torch::Tensor quantize() const;
    /// Hardens variables until only `softFraction` of all weights are soft: the most
    /// decided soft ones (largest |h(α) − 0.5|) round to their nearer side for good.
    void harden(double softFraction);
    /// Hardens every remaining variable (h > 0.5 → up).
    void hardenAll();
    double softFraction() const;

    /// Stored form with the learned rounding and grid scale s·f (every variable must be hard).
    QuantizedLinear stored() const;

    torch::Tensor& roundingLogits() { return m_alpha; } ///< α [rows, cols], requires grad
    torch::Tensor& scaleLogits() { return m_dst; }      ///< v [rows, groups], requires grad

    /// h(α), exposed for tests.
    static torch::Tensor rectifiedSigmoid(const torch::Tensor& alpha);

private:
    torch::Tensor roundingOffsets() const; ///< h(α) where soft, the hard 0/1 elsewhere

    WeightQuantSpec m_spec;
    QuantGrid m_grid;
    torch::Tensor m_floor; ///< ⌊W/s⌋ [rows, cols]
    torch::Tensor m_alpha;
    torch::Tensor m_dst;
    torch::Tensor m_soft; ///< bool [rows, cols]
    torch::Tensor m_hard; ///< float 0/1 [rows, cols] where not soft
};

} // namespace core
