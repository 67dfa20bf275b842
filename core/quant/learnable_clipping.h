#pragma once
// Learnable weight clipping (LWC; OmniQuant, Shao et al. ICLR 2024, METHODS.md §3.2):
// every quantization group (row × column group) has two logits γ_up, γ_low, and its
// range is [σ(γ_low)·min(W_g), σ(γ_up)·max(W_g)]. The grid follows the OmniQuant dialect;
// the weights are rounded through the straight-through estimator, so the block loss
// reaches γ through the scale (the zero point is rounded without STE, as in the paper's code).

#include "quant/quantized_linear.h"

#include <torch/torch.h>

namespace core {

class LearnableClipping {
public:
    /// OmniQuant initializes both logits to 4 (σ(4) ≈ 0.982: 1.8 % initial clipping).
    static constexpr double kInitialLogit = 4.0;

    /// `weight` [rows, cols] is the (frozen) full-precision weight; its group minima and
    /// maxima are taken once. `spec.dialect` is forced to OmniQuant.
    LearnableClipping(const torch::Tensor& weight, const WeightQuantSpec& spec, double initialLogit = kInitialLogit);

    /// Fake-quantized weight, differentiable in the logits (and in `weight` through the STE).
    /// `weight` is the FP weight given to the constructor or a transformed version of it of
    /// the same shape; its own group range is used.
    torch::Tensor quantize(const torch::Tensor& weight) const;
    /// The grid quantize() uses for `weight` (differentiable in the logits).
    QuantGrid grid(const torch::Tensor& weight) const;
    /// The stored form (codes on that grid) of `weight`; dequantize() equals quantize(weight).
    QuantizedLinear stored(const torch::Tensor& weight) const;

    torch::Tensor& upperLogits() { return m_upper; } ///< [rows, groups], requires grad
    torch::Tensor& lowerLogits() { return m_lower; }
    const WeightQuantSpec& spec() const { return m_spec; }

private:
    WeightQuantSpec m_spec;
    torch::Tensor m_upper;
    torch::Tensor m_lower;
};

} // namespace core
