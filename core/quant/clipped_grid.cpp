#include "quant/clipped_grid.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace core {
namespace {

struct RowGrid {
    torch::Tensor scale; // [rows]
    torch::Tensor zero;  // [rows], on the unsigned grid
};

// The asymmetric scale is clamped away from 0 for the initial range but not for the search's
// candidates, as in the reference (an all-zero row then never beats its initial grid).
RowGrid gridOfRange(const torch::Tensor& lo, const torch::Tensor& hi, int bits, bool symmetric, bool clampScale)
{
    if (symmetric) {
        const double negativeLevels = std::pow(2.0, bits - 1);
        const torch::Tensor scale = torch::maximum(torch::clamp_max(lo, 0.0) / -negativeLevels,
                                                   torch::clamp_min(hi, 1e-6) / (negativeLevels - 1));
        return {scale, torch::full_like(scale, negativeLevels)};
    }
    const double maxq = std::pow(2.0, bits) - 1.0;
    const torch::Tensor scale = (clampScale ? torch::clamp_min(hi - lo, 1e-5) : hi - lo) / maxq;
    return {scale, torch::round(-lo / scale)};
}

// Q(w) per row on the unsigned grid: scale · (clamp(round(w / scale) + zero, 0, maxq) − zero).
// The grid may carry leading candidate dimensions ([C, rows]); w is [rows, cols].
torch::Tensor quantizeRows(const torch::Tensor& w, const RowGrid& grid, double maxq)
{
    const torch::Tensor scale = grid.scale.unsqueeze(-1);
    const torch::Tensor zero = grid.zero.unsqueeze(-1);
    return scale * (torch::clamp(torch::round(w / scale) + zero, 0.0, maxq) - zero);
}

// Σ |Q(w) − w|^norm per row and candidate: quantizeRows's arithmetic in place (the same
// operations in the same order, so the same numbers), since this pass is the search's cost.
torch::Tensor searchError(const torch::Tensor& w, const RowGrid& grid, double maxq, double norm)
{
    const torch::Tensor scale = grid.scale.unsqueeze(-1);
    const torch::Tensor zero = grid.zero.unsqueeze(-1);
    torch::Tensor q = w / scale;
    q.round_().add_(zero).clamp_(0.0, maxq).sub_(zero).mul_(scale).sub_(w).abs_().pow_(norm);
    return q.sum(-1);
}

// Elements one batch of search candidates may hold: the search evaluates candidates side by
// side (one [C, rows, cols] pass instead of C small ones, which is what made the per-step weight
// fake-quant of OSTQuant's training slow) but never more than this at once on a large weight.
constexpr std::int64_t kCandidateBatchElements = std::int64_t{1} << 25;

} // namespace

QuantGrid fitClippedGrid(const torch::Tensor& columns, int bits, bool symmetric, const ClipSearch& search)
{
    if (bits < 2 || bits > 8)
        throw Error("clipped weight grid: bits must be 2..8, got " + std::to_string(bits));
    torch::NoGradGuard noGrad;
    const torch::Tensor w = columns.to(torch::kFloat32);
    const torch::Tensor lo = torch::clamp_max(std::get<0>(w.min(1)), 0.0);
    const torch::Tensor hi = torch::clamp_min(std::get<0>(w.max(1)), 0.0);
    const double maxq = std::pow(2.0, bits) - 1.0;
    RowGrid best = gridOfRange(lo, hi, bits, symmetric, true);
    if (search.enabled) {
        torch::Tensor bestError = torch::full({w.size(0)}, std::numeric_limits<float>::infinity(), w.options());
        const std::int64_t steps = static_cast<std::int64_t>(search.maxShrink * search.grid);
        const std::int64_t batch = std::max<std::int64_t>(1, kCandidateBatchElements / std::max<std::int64_t>(1, w.numel()));
        for (std::int64_t first = 0; first < steps; first += batch) {
            const std::int64_t count = std::min(batch, steps - first);
            std::vector<float> shrink(static_cast<std::size_t>(count));
            for (std::int64_t i = 0; i < count; ++i)
                shrink[static_cast<std::size_t>(i)] =
                    static_cast<float>(1.0 - static_cast<double>(first + i) / search.grid);
            const torch::Tensor p = torch::tensor(shrink, w.options()).unsqueeze(1); // [C, 1]
            const RowGrid candidate = gridOfRange(lo.unsqueeze(0) * p, hi.unsqueeze(0) * p, bits, symmetric, false);
            const torch::Tensor error = searchError(w, candidate, maxq, search.norm);
            // argmin returns the first minimum and the strict < keeps an earlier batch's: the
            // first p wins ties, as in the reference's sequential loop.
            const auto [batchError, index] = error.min(0);
            const torch::Tensor better = batchError < bestError;
            const torch::Tensor at = index.unsqueeze(0);
            bestError = torch::where(better, batchError, bestError);
            best.scale = torch::where(better, candidate.scale.gather(0, at).squeeze(0), best.scale);
            best.zero = torch::where(better, candidate.zero.gather(0, at).squeeze(0), best.zero);
        }
    }
    QuantGrid grid;
    grid.scale = best.scale.unsqueeze(1).contiguous();
    grid.zero = best.zero.unsqueeze(1).contiguous();
    grid.maxq = (1 << bits) - 1;
    return grid;
}

QuantGrid fitClippedGroups(const torch::Tensor& weight, int bits, bool symmetric, std::int64_t groupSize,
                           const ClipSearch& search)
{
    const std::int64_t rows = weight.size(0), cols = weight.size(1);
    const std::int64_t g = groupSize > 0 ? groupSize : cols;
    if (cols % g != 0)
        throw Error("clipped weight grid: group size " + std::to_string(g) + " does not divide " +
                    std::to_string(cols) + " columns");
    // Every (row, group) is a row of its own for the search.
    const torch::Tensor flat = weight.reshape({rows, cols / g, g}).reshape({rows * (cols / g), g});
    QuantGrid grid = fitClippedGrid(flat, bits, symmetric, search);
    grid.scale = grid.scale.reshape({rows, cols / g}).contiguous();
    grid.zero = grid.zero.reshape({rows, cols / g}).contiguous();
    return grid;
}

} // namespace core
