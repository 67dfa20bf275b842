#pragma once
// BiLLM (Huang et al., ICML 2024, "BiLLM: Pushing the Limit of Post-Training Quantization for
// LLMs"; METHODS.md §6.5) for one Linear, as the reference implementation Aaronhuang-778/BiLLM
// (bigptq.py `fasterquant`, utils/structure.py, utils/autosearch.py, binary.py) computes it with
// its README's settings (method "braq", salient_metric hessian); our reading:
// experiments/oac/billm-reference-notes.md. Per block of 128 input columns, on the block's
// weights after the error feedback of the earlier blocks:
// - a target T: the saliency W²/U_jj² (U = upper Cholesky factor of the damped H⁻¹), or W itself
//   ("magnitude");
// - salient columns: the k of largest Σ_rows |T|, k ∈ 1..49 chosen by the least mean squared
//   error of binarizing T with order-2 residual binarization on both the salient columns and
//   the rest (as the reference does, the search runs on T, not on W);
// - a break-point t from the 81 quantiles 10 %…90 % of |T| (salient entries as zeros), splitting
//   the other weights into |T| < t ("concentrated") and ≥ t ("sparse"), chosen the same way;
// - the weights binarized per row: salient with order 2, each non-salient part with order 1;
// - no update inside the block; Err = (W − Q)/U_jj feeds the later blocks (GPTQ's lazy update).
// With OAC (METHODS.md §6.3, "OAC-binary") the Hessian is the output-adaptive Ĥ.

#include "quant/quantized_linear.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace core {

enum class SalientMetric { Hessian, Magnitude };

struct BillmOptions {
    std::int64_t blockSize = 128;
    double percentDamp = 0.01;
    SalientMetric metric = SalientMetric::Hessian;
    std::int64_t salientSearchLimit = 50; ///< k is tried in 1 .. limit − 1 (the reference: 50)
};

struct BillmResult {
    torch::Tensor quantized;                  ///< float32 [rows, cols]
    QuantizedLinear stored;                   ///< codebook form; dequantizes to `quantized`
    std::vector<std::int64_t> salientColumns; ///< k of each column block
    torch::Tensor salientMask;                ///< bool [rows, cols]
};

/// Throws core::Error for shape mismatches, out-of-range options or a Hessian that damping does
/// not make positive definite.
BillmResult billmQuantize(const torch::Tensor& weight, const torch::Tensor& hessian, const BillmOptions& options = {});

/// Residual binarization of the entries of `x` [rows, cols] inside `mask` (binary.py
/// high_order_residual): `order` times, per row over the masked entries, μ = mean of the
/// residual, α = mean |residual − μ|, residual approximated by sign(residual − μ)·α + μ
/// (sign(0) = 0; an empty row gives 0). Returns the sum of the approximations, 0 off the mask.
torch::Tensor residualBinarize(const torch::Tensor& x, const torch::Tensor& mask, int order);

/// Bits of BiLLM's stored form, counted as for every method (quant/storage_bits.h): per weight
/// one sign bit per binarization order (2 salient, 1 other) and one bit telling a non-salient
/// weight's part; per row and block the 16-bit μ and α of its four binarizations; per block one
/// bit per column marking the salient ones. BiLLM's paper counts only the weights' signs (its
/// "1.08 bits"): see billmSignBits.
double billmStoredBits(std::int64_t rows, const std::vector<std::int64_t>& blockWidths);
/// 1 + salient share: the sign bits per weight alone.
double billmSignBits(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& salientColumns);

} // namespace core
