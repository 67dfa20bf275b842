#pragma once
// Hessian saliency of a Linear (METHODS.md §11.4), for any Hessian H of its inputs
// (GPTQ's 2XXᵀ/n; OAC's output-adaptive Ĥ later): with Hinv = (H + λI)⁻¹ (λ = damping ·
// mean diag H, dead columns handled as GPTQ does),
//   OBS saliency          s_ij = w_ij² / [Hinv]_jj
//   quantization sensitivity s_ij = (w_ij − q_ij)² / [Hinv]_jj
// reported as max-pooled maps, per-column profiles (Σ_i s_ij) and the exact top-k entries.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace core {

struct SalientWeight {
    std::int64_t row = 0;
    std::int64_t column = 0;
    double value = 0.0;
};

struct PooledMap {
    torch::Tensor values; ///< float32 [ceil(rows / poolRows), ceil(cols / poolCols)], max over each tile
    std::int64_t poolRows = 1;
    std::int64_t poolColumns = 1;
};

struct SaliencyResult {
    torch::Tensor hessianDiagonal; ///< float32 [cols], diag H as given (before damping)
    PooledMap obs;                 ///< OBS saliency map
    PooledMap sensitivity;         ///< quantization sensitivity map
    torch::Tensor obsProfile;      ///< float32 [cols]: Σ_i s_ij
    torch::Tensor sensitivityProfile;
    std::vector<SalientWeight> topObs; ///< the k largest OBS saliencies, descending
    double meanObs = 0.0;
    double meanSensitivity = 0.0;
};

/// Max-pools `map` [rows, cols] so that neither side exceeds `maxSide` (tiles of
/// ceil(rows / maxSide) × ceil(cols / maxSide); ragged last tiles). NaN propagates into
/// its tile. Throws core::Error for maxSide < 1 or an empty / non-2-D map.
PooledMap maxPool(const torch::Tensor& map, std::int64_t maxSide);

/// Saliency maps of `weight` [rows, cols] with its quantized version `quantized` (same shape)
/// under `hessian` [cols, cols]. The inverse's diagonal comes from a float64 Cholesky
/// factor. Dead columns (H_jj = 0: the input never moves) get H_jj = 1 as in GPTQ and
/// saliency 0 in both maps, since their weights cannot change the output. `topObs` holds
/// min(topK, rows·cols) entries (none for topK ≤ 0). Throws core::Error on shape mismatch,
/// percentDamp < 0, or a damped Hessian that is not positive definite.
SaliencyResult hessianSaliency(const torch::Tensor& weight, const torch::Tensor& quantized,
                               const torch::Tensor& hessian, double percentDamp = 0.01, std::int64_t topK = 64,
                               std::int64_t maxSide = 256);

/// |A ∩ B| / |A ∪ B| of two top-k lists as sets of (row, column); 1 when both are empty.
double topSalientJaccard(const std::vector<SalientWeight>& a, const std::vector<SalientWeight>& b);

/// Spearman's rank correlation of two equally long vectors (average ranks for ties); NaN when
/// either is constant or they are shorter than 2.
double spearmanCorrelation(const torch::Tensor& x, const torch::Tensor& y);

} // namespace core
