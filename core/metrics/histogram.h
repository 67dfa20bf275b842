#pragma once
// Histograms on fixed, shared bin edges (METHODS.md §11.1): the FP and quantized
// versions of one tensor are counted on the same edges so they overlay exactly.
// Values below/above the edges go to underflow/overflow counts, NaN to a count of
// its own. Accumulates batch by batch; never holds the values.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace core {

/// Uniform bins over [lo, hi), 1 ≤ bins ≤ 2^20: bin b holds lo + b·Δ ≤ v < lo + (b+1)·Δ,
/// Δ = (hi − lo) / bins, with b = floor((v − lo) · scale), scale = bins / (hi − lo), in
/// float64 (clamped to the last bin when v < hi but the product rounds up to bins).
/// v == lo is bin 0, v == hi is overflow, −inf underflow, +inf overflow.
struct HistogramEdges {
    double lo = 0.0;
    double hi = 1.0;
    std::int64_t bins = 256;
};

/// Edges over the FP range [min, max] widened by `margin` × (max − min) on each side
/// (a constant range gets a ±0.5 range around it). With margin 0 the maximum itself
/// lands in overflow (bins are half-open). Throws core::Error for bins outside [1, 2^20], a
/// negative margin, non-finite bounds or min > max (e.g. an empty RangeAccumulator's).
HistogramEdges edgesForRange(double min, double max, std::int64_t bins, double margin = 0.02);

struct Histogram {
    HistogramEdges edges;
    std::vector<std::int64_t> counts; ///< [bins]
    std::int64_t underflow = 0;
    std::int64_t overflow = 0;
    std::int64_t nan = 0;
    std::int64_t total() const; ///< every value added, including under/overflow and NaN
};

class HistogramAccumulator {
public:
    /// Throws core::Error unless 1 ≤ bins ≤ 2^20 and lo < hi are finite.
    explicit HistogramAccumulator(const HistogramEdges& edges);
    /// Counts every element of `values` (any shape and device, float32 or convertible: other
    /// dtypes are converted to float32 first, so a float64 value may change bin at an edge).
    /// Multi-threaded (at::parallel_for) with per-chunk counts; one pass over the data.
    /// Call from one thread at a time.
    void add(const torch::Tensor& values);
    const Histogram& histogram() const { return m_histogram; }

private:
    Histogram m_histogram;
};

/// Σ p_b log(p_b / q_b) over the in-range bins plus under/overflow, with p, q the
/// normalized counts smoothed by ε = 1e-10 (METHODS.md §11.1). p = FP, q = quantized.
/// p_b = n_b / N + ε with N the non-NaN total (NaN counts are left out), likewise q; in
/// nats. 0 for identical histograms, > 0 otherwise. Throws core::Error when the edges
/// differ or either histogram has no non-NaN value.
double histogramKl(const Histogram& p, const Histogram& q);

/// Running min / max of everything added (to fix edges before counting). NaN and ±inf
/// are skipped (the histogram counts them in its NaN / under / overflow bins).
class RangeAccumulator {
public:
    void add(const torch::Tensor& values); ///< any shape, float32 or convertible
    double min() const { return m_min; }
    double max() const { return m_max; }
    /// True until a finite value was added (min() > max() until then).
    bool empty() const { return m_min > m_max; }

private:
    double m_min = 1e300;
    double m_max = -1e300;
};

/// Per input channel: absmax, mean and std over all rows seen (the last dimension is the channel).
/// Batches are merged with Chan et al.'s pairwise update (mean and centred sum of squares),
/// so a large mean does not cancel the variance. All zeros before the first row.
class ChannelStatsAccumulator {
public:
    /// Throws core::Error for channels < 1.
    explicit ChannelStatsAccumulator(std::int64_t channels);
    /// Adds the rows of [..., channels]; throws core::Error for another last dimension.
    void add(const torch::Tensor& values);
    torch::Tensor absMax() const; ///< float64 [channels]
    torch::Tensor mean() const;   ///< float64 [channels]
    torch::Tensor std() const;    ///< float64 [channels], population std
    std::int64_t rows() const { return m_rows; }

private:
    torch::Tensor m_mean, m_centredSquares, m_absMax; // float64
    std::int64_t m_rows = 0;
};

} // namespace core
