#pragma once
// Uniform weight fake-quantization (round-to-nearest), per output channel or per
// group of input columns, in the dialects of the reference code bases
// (METHODS.md §1): GPTQ (range forced to contain 0) and OmniQuant (min/max as is).
// Weights are [rows = output channels, cols = input channels], groups run along cols.

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace core {

enum class QuantDialect {
    Gptq,      ///< IST-DASLab/gptq quant.py: [min(w,0), max(w,0)], zero = round(-min/scale)
    OmniQuant, ///< OpenGVLab/OmniQuant quantizer.py: [min, max], clamped scale, zero = round(clamp(-min/scale))
};

struct WeightQuantSpec {
    int bits = 4;                 ///< 1..8 (1: binary, an affine grid of two levels)
    std::int64_t groupSize = 128; ///< columns per group; -1 = one group per output channel
    bool symmetric = false;
    QuantDialect dialect = QuantDialect::Gptq;
};

/// Throws core::Error naming the field when bits or group size are out of range
/// for a weight with `columns` input channels (columns = 0 skips the divisibility check).
void validateWeightQuantSpec(const WeightQuantSpec& spec, std::int64_t columns = 0);

/// Scale and zero point for each (row, group): tensors of shape [rows, groups].
struct QuantGrid {
    torch::Tensor scale;
    torch::Tensor zero;
    int maxq = 0; ///< 2^bits - 1
};

/// The grid of each group from its range [lo, hi] (tensors [rows, groups]) in the spec's
/// dialect. Differentiable in lo and hi where the dialect is (the zero point is rounded
/// without a straight-through estimator, as OmniQuant does): learned clipping uses it.
QuantGrid gridForRange(torch::Tensor lo, torch::Tensor hi, const WeightQuantSpec& spec);

/// Fits the grid of every group of `weight` [rows, cols] (no gradient flows through it).
QuantGrid fitQuantGrid(const torch::Tensor& weight, const WeightQuantSpec& spec);

/// Fits the grid of one column range [rows, width] as a single group per row (GPTQ fits
/// group parameters at each group start on the partially updated weights).
QuantGrid fitColumnGrid(const torch::Tensor& columns, const WeightQuantSpec& spec);

/// scale · (clamp(round(w / scale) + zero, 0, maxq) − zero) with the grid of each element's group.
torch::Tensor fakeQuantize(const torch::Tensor& weight, const QuantGrid& grid, std::int64_t groupSize);

/// The same for one column vector [rows] with per-row scale/zero [rows, 1] (GPTQ's inner loop).
torch::Tensor fakeQuantizeColumn(const torch::Tensor& column, const torch::Tensor& scale, const torch::Tensor& zero,
                                 int maxq);

/// Round-to-nearest: fitQuantGrid + fakeQuantize.
torch::Tensor quantizeRtn(const torch::Tensor& weight, const WeightQuantSpec& spec);

/// Straight-through estimator: forward value fake-quantized, gradient passed as identity
/// (round_ste(x) = x + (round(x) − x).detach()). For the learning methods.
torch::Tensor fakeQuantizeSte(const torch::Tensor& weight, const QuantGrid& grid, std::int64_t groupSize);

/// Binarization sign(w) · α with α = mean |w| of each row (groupSize = -1) or group
/// (the closed-form L2-optimal scale; XNOR-Net, Rastegari et al. 2016, eq. 3). sign(0) = +1.
torch::Tensor binarize(const torch::Tensor& weight, std::int64_t groupSize = -1);

/// Weight signal-to-quantization-noise ratio in dB: 10 log10(Σ w² / Σ (w − ŵ)²).
double weightSqnrDb(const torch::Tensor& weight, const torch::Tensor& quantized);

std::string dialectName(QuantDialect dialect);

} // namespace core
