#pragma once
// QSUR, the quantization space utilization rate of OSTQuant (METHODS.md §7.1): the
// volume of the data's 99 % Gaussian ellipsoid over the volume of the smallest
// hypercube (same range in every dimension) containing it. Computed in logs:
//   log V_X = (d/2) log π − lgamma(d/2 + 1) + (d/2) log c + ½ Σ log λ_i
//   L = max_j(μ_j + sqrt(c Σ_jj)) − min_j(μ_j − sqrt(c Σ_jj)),  log V_S = d log L
// with c = χ²_d(0.99) (Wilson–Hilferty approximation of the quantile), Σ the covariance
// (+ 1e-8 · tr(Σ)/d · I), λ its eigenvalues.

#include <torch/torch.h>

#include <cstdint>

namespace core {

/// Accumulates Σx and Σxxᵀ (float64) of rows of [..., d], taken about a fixed shift (the
/// first batch's mean) so that a large mean does not cancel the covariance. Each batch
/// costs one float32 GEMM, summed across batches in float64 (as HessianAccumulator).
class MomentAccumulator {
public:
    explicit MomentAccumulator(std::int64_t dim); ///< throws core::Error for dim < 1
    void add(const torch::Tensor& values);        ///< [..., d]; throws core::Error on another width
    std::int64_t rows() const { return m_rows; }
    torch::Tensor mean() const;       ///< float64 [d]; throws core::Error before the first row
    torch::Tensor covariance() const; ///< float64 [d, d], population covariance; throws likewise

private:
    torch::Tensor m_shift;                      // float32 [d]
    torch::Tensor m_sum;                        // float64 Σx
    torch::Tensor m_shiftedSum, m_shiftedOuter; // float64, of x − shift
    std::int64_t m_rows = 0;
};

struct QsurResult {
    double log10Qsur = 0.0;
    double perDim = 0.0;           ///< exp(log QSUR / d), in (0, 1]
    double perDimNormalized = 0.0; ///< perDim / perDim of the ideal (ball in cube), 1 = ideal
    torch::Tensor eigenvalues;     ///< float64 [d], descending, divided by their mean
    torch::Tensor diagonal;        ///< float64 [d]: Σ_jj divided by mean(λ)
};

/// χ²_d quantile at probability `p` (Wilson–Hilferty (1931): d·(1 − 2/(9d) + z_p·sqrt(2/(9d)))³,
/// z_p the standard normal quantile). At p = 0.99 the relative error is 1.3e-3 for d = 10,
/// 1e-4 for d = 100 and falls as 1/d. Throws core::Error for d < 1 or p outside (0, 1).
double chiSquareQuantile(std::int64_t d, double p);

/// QSUR from a mean [d] and covariance [d, d] (any float dtype). Throws core::Error on
/// shape mismatch, non-finite input, a zero covariance (constant data has no volume) or
/// a covariance with clearly negative eigenvalues.
QsurResult qsurFromMoments(const torch::Tensor& mean, const torch::Tensor& covariance, double probability = 0.99);

/// QSUR of the rows of `samples` [n, d] (for a Linear weight [out, in] as stored: one sample per
/// output channel in the d = in input-channel space; with out < in the covariance is singular
/// and the ridge, not the data, sets the smallest eigenvalues).
/// Throws core::Error for fewer than 2 rows, and as qsurFromMoments.
QsurResult qsur(const torch::Tensor& samples, double probability = 0.99);

} // namespace core
