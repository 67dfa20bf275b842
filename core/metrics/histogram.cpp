#include "metrics/histogram.h"

#include "util/error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace core {
namespace {

// Below this many elements a chunk is not worth a thread.
constexpr std::int64_t kMinChunk = 1 << 16;

// A CPU, contiguous, float32, 1-D view of `values` (copies only when it has to).
torch::Tensor flatFloat(const torch::Tensor& values)
{
    return values.detach().to(torch::kCPU, torch::kFloat32).contiguous().reshape({-1});
}

// At most one chunk per thread, none smaller than kMinChunk.
std::int64_t chunkCount(std::int64_t n)
{
    const std::int64_t threads = std::max<std::int64_t>(1, at::get_num_threads());
    return std::clamp<std::int64_t>((n + kMinChunk - 1) / kMinChunk, 1, threads);
}

// Runs body(chunk, begin, end) on `chunks` equal slices of [0, n), in parallel. Each
// chunk owns its results, so the merge after the call is the only shared step and the
// results do not depend on how ATen schedules the chunks.
template <typename Body> void forEachChunk(std::int64_t n, std::int64_t chunks, const Body& body)
{
    const std::int64_t size = (n + chunks - 1) / chunks;
    at::parallel_for(0, chunks, 1, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t c = first; c < last; ++c)
            body(c, std::min(n, c * size), std::min(n, (c + 1) * size));
    });
}

// Bounds the per-chunk count arrays (4 × 8 bytes per bin) and keeps slots 32-bit.
constexpr std::int64_t kMaxBins = std::int64_t(1) << 20;

void validateBins(std::int64_t bins)
{
    if (bins < 1 || bins > kMaxBins)
        throw Error("histogram edges: bins must be between 1 and " + std::to_string(kMaxBins) + " (got " +
                    std::to_string(bins) + ")");
}

void validateEdges(const HistogramEdges& edges)
{
    validateBins(edges.bins);
    if (!std::isfinite(edges.lo) || !std::isfinite(edges.hi) || !(edges.lo < edges.hi))
        throw Error("histogram edges: need finite lo < hi (got [" + std::to_string(edges.lo) + ", " +
                    std::to_string(edges.hi) + "))");
}

} // namespace

HistogramEdges edgesForRange(double min, double max, std::int64_t bins, double margin)
{
    validateBins(bins);
    if (!(margin >= 0.0) || !std::isfinite(margin))
        throw Error("histogram edges: margin must be a finite value ≥ 0 (got " + std::to_string(margin) + ")");
    if (min > max)
        throw Error("histogram edges: empty range (no finite value was seen)");
    if (!std::isfinite(min) || !std::isfinite(max))
        throw Error("histogram edges: range [" + std::to_string(min) + ", " + std::to_string(max) + "] is not finite");
    HistogramEdges edges;
    edges.bins = bins;
    const double span = max - min;
    if (span > 0.0) {
        edges.lo = min - margin * span;
        edges.hi = max + margin * span;
    } else {
        edges.lo = min - 0.5;
        edges.hi = max + 0.5;
    }
    return edges;
}

std::int64_t Histogram::total() const
{
    std::int64_t sum = underflow + overflow + nan;
    for (const std::int64_t c : counts)
        sum += c;
    return sum;
}

HistogramAccumulator::HistogramAccumulator(const HistogramEdges& edges)
{
    validateEdges(edges);
    m_histogram.edges = edges;
    m_histogram.counts.assign(static_cast<std::size_t>(edges.bins), 0);
}

void HistogramAccumulator::add(const torch::Tensor& values)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor flat = flatFloat(values);
    const std::int64_t n = flat.numel();
    if (n == 0)
        return;
    const float* data = flat.data_ptr<float>();
    const double lo = m_histogram.edges.lo;
    const double hi = m_histogram.edges.hi;
    const std::int64_t bins = m_histogram.edges.bins;
    const double scale = static_cast<double>(bins) / (hi - lo);
    // Slot 0 is underflow, 1 … bins the bins, then overflow and NaN: every element costs
    // one increment. Slots are computed a block at a time, then counted.
    const std::int64_t slots = bins + 3;
    const double lastBin = static_cast<double>(bins) - 0.5, overflow = static_cast<double>(bins),
                 nan = static_cast<double>(bins) + 1.0;
    // Four interleaved count arrays per chunk: runs of equal values (common in quantized
    // tensors) would otherwise serialize on one counter's store-to-load latency.
    constexpr std::int64_t kLanes = 4;
    constexpr std::int64_t kBlock = 512;
    const std::int64_t chunks = chunkCount(n);
    std::vector<std::int64_t> chunkCounts(static_cast<std::size_t>(chunks * slots), 0);

    forEachChunk(n, chunks, [&](std::int64_t chunk, std::int64_t begin, std::int64_t end) {
        // The range tests, not the product, decide under/in/over: v == hi is overflow and
        // v just below hi the last bin, whatever (v − lo)·scale rounds to. NaN fails every
        // comparison and ends in its own slot. Selects only, and the constants copied into
        // this closure (registers, not loads through the outer one), so the loop vectorizes.
        const auto slotOf = [lo, hi, scale, lastBin, overflow, nan](float value) {
            const double v = value;
            double t = (v - lo) * scale;
            t = t < lastBin ? t : lastBin;
            t = v >= lo ? t : -1.0;
            t = v < hi ? t : overflow;
            t = v != v ? nan : t;
            return static_cast<std::int32_t>(t) + 1;
        };
        std::vector<std::int64_t> lanes(static_cast<std::size_t>(kLanes * slots), 0);
        std::int64_t* c0 = lanes.data();
        std::int64_t* c1 = c0 + slots;
        std::int64_t* c2 = c1 + slots;
        std::int64_t* c3 = c2 + slots;
        std::int32_t slot[kBlock];
        for (std::int64_t first = begin; first < end; first += kBlock) {
            const float* x = data + first;
            std::int64_t count = end - first;
            if (count >= kBlock) { // a constant trip count is what lets GCC -O2 vectorize
                count = kBlock;
                for (std::int64_t j = 0; j < kBlock; ++j)
                    slot[j] = slotOf(x[j]);
            } else {
                for (std::int64_t j = 0; j < count; ++j)
                    slot[j] = slotOf(x[j]);
            }
            std::int64_t j = 0;
            for (; j + kLanes <= count; j += kLanes) {
                ++c0[slot[j]];
                ++c1[slot[j + 1]];
                ++c2[slot[j + 2]];
                ++c3[slot[j + 3]];
            }
            for (; j < count; ++j)
                ++c0[slot[j]];
        }
        std::int64_t* out = chunkCounts.data() + chunk * slots;
        for (std::int64_t s = 0; s < slots; ++s)
            out[s] = c0[s] + c1[s] + c2[s] + c3[s];
    });

    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::int64_t* counts = chunkCounts.data() + c * slots;
        m_histogram.underflow += counts[0];
        for (std::int64_t b = 0; b < bins; ++b)
            m_histogram.counts[static_cast<std::size_t>(b)] += counts[b + 1];
        m_histogram.overflow += counts[bins + 1];
        m_histogram.nan += counts[bins + 2];
    }
}

double histogramKl(const Histogram& p, const Histogram& q)
{
    constexpr double kEpsilon = 1e-10;
    if (p.edges.lo != q.edges.lo || p.edges.hi != q.edges.hi || p.edges.bins != q.edges.bins ||
        p.counts.size() != q.counts.size() || static_cast<std::int64_t>(p.counts.size()) != p.edges.bins)
        throw Error("histogram KL: the FP and quantized histograms have different edges");
    const double np = static_cast<double>(p.total() - p.nan);
    const double nq = static_cast<double>(q.total() - q.nan);
    if (np <= 0.0 || nq <= 0.0)
        throw Error(std::string("histogram KL: the ") + (np <= 0.0 ? "FP" : "quantized") +
                    " histogram has no non-NaN value");
    // Both smoothed distributions carry the same extra mass (bins + 2)·ε, so by the
    // log-sum inequality the sum is still ≥ 0 with equality only for p = q.
    const auto term = [&](std::int64_t a, std::int64_t b) {
        const double pb = static_cast<double>(a) / np + kEpsilon;
        const double qb = static_cast<double>(b) / nq + kEpsilon;
        return pb * std::log(pb / qb);
    };
    double kl = term(p.underflow, q.underflow) + term(p.overflow, q.overflow);
    for (std::size_t b = 0; b < p.counts.size(); ++b)
        kl += term(p.counts[b], q.counts[b]);
    return kl;
}

void RangeAccumulator::add(const torch::Tensor& values)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor flat = flatFloat(values);
    const std::int64_t n = flat.numel();
    if (n == 0)
        return;
    const float* data = flat.data_ptr<float>();
    const std::int64_t chunks = chunkCount(n);
    std::vector<float> lows(static_cast<std::size_t>(chunks), std::numeric_limits<float>::infinity());
    std::vector<float> highs(static_cast<std::size_t>(chunks), -std::numeric_limits<float>::infinity());
    forEachChunk(n, chunks, [&](std::int64_t chunk, std::int64_t begin, std::int64_t end) {
        float low = std::numeric_limits<float>::infinity();
        float high = -low;
        for (std::int64_t i = begin; i < end; ++i) {
            const float v = data[i];
            if (std::isfinite(v)) {
                low = std::min(low, v);
                high = std::max(high, v);
            }
        }
        lows[static_cast<std::size_t>(chunk)] = low;
        highs[static_cast<std::size_t>(chunk)] = high;
    });
    for (std::size_t c = 0; c < lows.size(); ++c) {
        if (lows[c] <= highs[c]) { // the chunk had a finite value
            m_min = std::min(m_min, static_cast<double>(lows[c]));
            m_max = std::max(m_max, static_cast<double>(highs[c]));
        }
    }
}

ChannelStatsAccumulator::ChannelStatsAccumulator(std::int64_t channels)
{
    if (channels < 1)
        throw Error("channel statistics: channel count must be at least 1 (got " + std::to_string(channels) + ")");
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    m_mean = torch::zeros({channels}, options);
    m_centredSquares = torch::zeros({channels}, options);
    m_absMax = torch::zeros({channels}, options);
}

void ChannelStatsAccumulator::add(const torch::Tensor& values)
{
    torch::NoGradGuard noGrad;
    const std::int64_t channels = m_mean.size(0);
    if (values.dim() == 0 || values.size(-1) != channels)
        throw Error("channel statistics for " + std::to_string(channels) + " channels got a tensor with " +
                    (values.dim() == 0 ? std::string("no dimensions")
                                       : std::to_string(values.size(-1)) + " in its last dimension"));
    const torch::Tensor x = values.detach().reshape({-1, channels}).to(torch::kCPU, torch::kFloat64);
    const std::int64_t rows = x.size(0);
    if (rows == 0)
        return;
    const torch::Tensor batchMean = x.mean(0);
    const torch::Tensor batchSquares = (x - batchMean).square().sum(0);
    m_absMax = torch::maximum(m_absMax, x.abs().amax(0));
    // Chan, Golub & LeVeque (1979), pairwise update: M2 = M2_a + M2_b + δ² n_a n_b / n.
    const double na = static_cast<double>(m_rows), nb = static_cast<double>(rows), n = na + nb;
    const torch::Tensor delta = batchMean - m_mean;
    m_mean.add_(delta * (nb / n));
    m_centredSquares.add_(batchSquares + delta.square() * (na * nb / n));
    m_rows += rows;
}

torch::Tensor ChannelStatsAccumulator::absMax() const
{
    return m_absMax.clone();
}

torch::Tensor ChannelStatsAccumulator::mean() const
{
    return m_mean.clone();
}

torch::Tensor ChannelStatsAccumulator::std() const
{
    if (m_rows == 0)
        return torch::zeros_like(m_centredSquares);
    return (m_centredSquares / static_cast<double>(m_rows)).sqrt();
}

} // namespace core
