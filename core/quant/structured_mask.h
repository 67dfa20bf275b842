#pragma once
// PTQ1.61's one-dimensional structured mask (Zhao et al., ACL 2025; METHODS.md §8.1–8.2): per
// Linear a few salient input channels keep 4-bit weights (GPTQ dialect, the range of each row over
// the full row), every other column is binarized around the row's mean with a learnable per-row
// scale and a rank-1 row × column rescaling:
//   Ŵ[:, c] = RTN_b(W)[:, c]                                    c salient
//   Ŵ[:, c] = r1 ⊙ r2_c ⊙ (α ⊙ sign(W[:, c] − μ) + μ)           otherwise
// Weights are [rows = output channels, cols = input channels].

#include "quant/quantized_linear.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace core {

/// The salient input channels of a Linear, as the authors' code picks them
/// (quantize/blockptq.py): the statistic [cols] clamped to ≥ 1e-5 and sorted in descending
/// order, threshold = sorted[int(fraction · cols)], salient = statistic ≥ threshold. That keeps
/// int(fraction · cols) + 1 channels (more on ties). bool [cols]. Throws core::Error for a
/// fraction outside [0, 1) or a statistic that is not finite, naming `layer`.
torch::Tensor salientChannels(const torch::Tensor& statistic, double fraction, const std::string& layer);

/// μ and α of each row [rows] over its non-salient, non-zero weights: their mean and their mean
/// magnitude (0 for a row without any).
struct BinaryStatistics {
    torch::Tensor mean;  ///< μ
    torch::Tensor scale; ///< α
};
BinaryStatistics binaryStatistics(const torch::Tensor& weight, const torch::Tensor& salient);

/// The grid of the salient part: `bits`, one asymmetric group per row, GPTQ dialect.
WeightQuantSpec salientPartSpec(int bits);

/// (r1 r2ᵀ) ⊙ (α ⊙ signs + μ) [rows, cols]: signs in {−1, 0, 1} [rows, cols]; μ, α, r1 [rows];
/// r2 [cols]. Differentiable in α, r1 and r2. The stored form dequantizes with this same function,
/// so a trained Linear and its stored form agree bit for bit.
torch::Tensor binarizedPart(const torch::Tensor& signs, const torch::Tensor& mean, const torch::Tensor& scale,
                            const torch::Tensor& rowScale, const torch::Tensor& columnScale);

/// The salient columns of `salientPart`, the others of `binaryPart`.
torch::Tensor combineStructuredMask(const torch::Tensor& salient, const torch::Tensor& salientPart,
                                    const torch::Tensor& binaryPart);

/// The stored form of a Linear quantized this way (QuantizedLinear's structured-mask form), its
/// bit count set. Throws core::Error naming `layer` when the salient part is off its grid.
QuantizedLinear structuredMaskStored(const torch::Tensor& weight, const torch::Tensor& salient, int salientBits,
                                     const BinaryStatistics& statistics, const torch::Tensor& rowScale,
                                     const torch::Tensor& columnScale, const std::string& layer);

/// Bits of that stored form as the paper's accounting extends to every side parameter
/// (README, "Effective bits"): b bits per salient weight and 1 per binarized one; the mask, one
/// bit per input column; per row α, μ, r1 and the salient grid's scale at 16 bits and its zero
/// point at b bits; r2 at 16 bits per binarized column.
double structuredMaskBits(std::int64_t rows, std::int64_t columns, std::int64_t salientColumns, int salientBits);

} // namespace core
