#pragma once
// GPTQ (Frantar et al., 2023, "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", Algorithm 1), following the reference
// implementation IST-DASLab/gptq gptq.py `fasterquant` (METHODS.md §5.2):
// dead columns zeroed, damping λ = percdamp · mean diag(H), Cholesky factor of
// H⁻¹, column-by-column quantization with error feedback inside blocks of 128
// columns and lazy updates of the remaining columns, group parameters fitted at
// each group start on the partially updated weights, optional act-order.

#include "quant/quantized_linear.h"

#include <torch/torch.h>

#include <functional>

namespace core {

struct GptqOptions {
    std::int64_t blockSize = 128;
    double percentDamp = 0.01; ///< damping as a fraction of the mean Hessian diagonal
    bool actOrder = false;     ///< quantize columns by decreasing diag(H)
    /// The grid of a column range [rows, width] (one group per row); unset: fitColumnGrid with
    /// the spec. The rotation methods fit theirs with a clipping search (quant/clipped_grid.h).
    std::function<QuantGrid(const torch::Tensor& columns)> fitGrid;
};

struct GptqResult {
    torch::Tensor quantized;  ///< dequantized weights [rows, cols], float32
    QuantizedLinear stored;   ///< the same weights as codes + the grid of each group
    torch::Tensor columnLoss; ///< Σ_rows (w − q)² / [U]_jj² / 2 per column (GPTQ's "Losses")
    double totalLoss = 0.0;
};

/// Quantizes `weight` [rows, cols] against `hessian` [cols, cols] (from HessianAccumulator).
/// Neither input is modified. Throws core::Error when the damped Hessian is not positive
/// definite (raise percentDamp) or shapes disagree.
GptqResult gptqQuantize(const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec& spec,
                        const GptqOptions& options = {});

/// Relative output error of replacing W by Ŵ on the calibration inputs, computed
/// from the Hessian: tr(ΔW H ΔWᵀ) / tr(W H Wᵀ) = ‖WX − ŴX‖² / ‖WX‖².
double relativeReconstructionError(const torch::Tensor& weight, const torch::Tensor& quantized,
                                   const torch::Tensor& hessian);

} // namespace core
