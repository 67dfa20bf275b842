#pragma once
// SpQR (Dettmers et al., 2023, "SpQR: A Sparse-Quantized Representation for Near-Lossless LLM
// Weight Compression"; METHODS.md §6.4) for one Linear, as the reference implementation
// Vahe1994/SpQR spqr_engine.py `SPQRUtil.quantize` computes it (our reading:
// experiments/oac/spqr-reference-notes.md):
// - GPTQ's column sweep with the upper Cholesky factor U of the damped H⁻¹, in place: within a
//   block every column updates the rest of the block at once, later blocks lazily;
// - small groups whose min/max grid (not forced to contain 0, unrounded zero) is fitted at the
//   group's first column on the current weights, without the group's likely outliers (a
//   leave-one-out test, the candidates replaced by their row's mean of the others);
// - the group statistics themselves quantized (min/max, `statisticBits`) in runs of
//   `statisticGroupSize` consecutive rows, scale before zero;
// - unstructured outliers: a weight whose scaled error ((w − q)/U_cc)² exceeds
//   τ = t · mean_j(Var_rows(W[:, j]) / U_jj²) keeps its current value and propagates no error.
// With OAC (METHODS.md §6.3, "OAC-2bit") the Hessian is the output-adaptive Ĥ instead of 2XXᵀ;
// every rule above is invariant to the Hessian's scale.

#include "quant/quantized_linear.h"

#include <torch/torch.h>

#include <cstdint>

namespace core {

struct SpqrOptions {
    std::int64_t blockSize = 128;
    double percentDamp = 1.0;             ///< × mean |diag H| (the reference's near-lossless recipe: 1.0)
    bool actOrder = true;                 ///< columns by decreasing diag H (of the undamped Hessian)
    bool outliers = true;                 ///< false: threshold ∞, no outliers and no leave-one-out fit
    double outlierThreshold = 0.2;        ///< t in τ = t · o; larger means fewer outliers
    int statisticBits = 3;                ///< bits of each group's scale and zero; 0: kept as 16-bit floats
    std::int64_t statisticGroupSize = 16; ///< consecutive rows sharing one second-level grid
};

struct SpqrResult {
    torch::Tensor quantized;     ///< dequantized weights with the outliers in place [rows, cols], float32
    QuantizedLinear stored;      ///< codes, quantized statistics and sparse outliers; dequantizes to `quantized`
    torch::Tensor outlierMask;   ///< bool [rows, cols], original column order
    double outlierThreshold = 0; ///< τ (absolute, on the squared scaled error); ∞ without outliers
};

/// Quantizes `weight` [rows, cols] against `hessian` [cols, cols]; the bits, group size (-1:
/// one group per row) and symmetry come from `spec`, its dialect is ignored (SpQR has its own).
/// Throws core::Error for shape mismatches, out-of-range options, or a Hessian that damping
/// does not make positive definite.
SpqrResult spqrQuantize(const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec& spec,
                        const SpqrOptions& options = {});

/// SpQR's min/max grid of each row of `values` [n, width] (the reference's Quantizer.find_params,
/// per channel): scale = (max − min)/maxq and an unrounded zero −min/scale; symmetric: the range
/// mirrored where min < 0 and zero = (maxq + 1)/2; a constant row gets the range [−1, 1].
struct SpqrGrid {
    torch::Tensor scale; ///< [n]
    torch::Tensor zero;  ///< [n]
};
SpqrGrid fitSpqrGrid(const torch::Tensor& values, int bits, bool symmetric);
/// clamp(round(x / max(scale, 1e-9) + zero), 0, maxq): the codes (as float) of x on a grid.
torch::Tensor spqrCodes(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero, int maxq);

} // namespace core
