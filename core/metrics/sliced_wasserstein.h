#pragma once
// Projected sliced-Wasserstein distributions of block outputs (METHODS.md §2.2, §11.2;
// the SW alignment loss paper): fixed seeded unit directions u_k, the 1-D projections
// a_k = Y_fp u_k and b_k = Y_q u_k, and per direction the 1-D Wasserstein distances
// between the two empirical distributions (equal sizes: sorted values paired).

#include "metrics/histogram.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace core {

/// `count` unit directions in R^dim, [count, dim] float32: i.i.d. N(0, 1) rows from a
/// generator seeded with `seed`, each divided by (its norm + 1e-8). Same (seed, count,
/// dim) → same directions, in every run and on every machine: the normals come from
/// std::mt19937_64 (its sequence is fixed by the C++ standard) through Box–Muller in
/// float64, not from torch's generator, whose normal fill takes a different (vectorized)
/// path depending on the CPU. (C libraries may differ by an ulp in float64 log/sin/cos,
/// which the float32 result almost never shows.) Does not touch torch's global generator.
/// Throws core::Error for count < 1 or dim < 1.
torch::Tensor randomUnitDirections(std::int64_t count, std::int64_t dim, std::uint64_t seed);

struct ProjectedDistances {
    torch::Tensor w1; ///< float64 [K]: mean |sort(a_k) − sort(b_k)|
    torch::Tensor w2; ///< float64 [K]: sqrt(mean (sort(a_k) − sort(b_k))²)
    double sw1 = 0.0; ///< mean_k w1 (the SW paper's loss value, METHODS.md §2.2)
    double sw2 = 0.0; ///< sqrt(mean_k w2²)
};

/// Projections of `values` [..., dim] onto `directions` [K, dim] → [N, K] float32 (N = the
/// product of the leading dimensions), computed in float32 on the CPU. Throws core::Error
/// when the last dimensions differ.
torch::Tensor projectOnto(const torch::Tensor& values, const torch::Tensor& directions);

/// Distances between the columns of two projection sets [N, K] (same N, N ≥ 1), sorted in
/// float32 and differenced in float64. Throws core::Error on shape mismatch.
ProjectedDistances projectedDistances(const torch::Tensor& fpProjections, const torch::Tensor& quantizedProjections);

/// `levels` + 1 evenly spaced quantiles (probabilities 0, 1/levels, ..., 1) of each column of
/// `projections` [N, K] → [K, levels + 1] float32 (what a quantile-quantile plot needs).
/// Linear interpolation between order statistics at position p·(N − 1) (torch.quantile's
/// default), so the first and last columns are the minimum and maximum. Throws core::Error
/// for levels < 1 or an empty / non-2-D input.
torch::Tensor columnQuantiles(const torch::Tensor& projections, std::int64_t levels);

} // namespace core
