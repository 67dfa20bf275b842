#include "quant/clipped_grid.h"

#include "util/error.h"

#include <cmath>
#include <limits>

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
torch::Tensor quantizeRows(const torch::Tensor& w, const RowGrid& grid, double maxq)
{
    const torch::Tensor scale = grid.scale.unsqueeze(1);
    const torch::Tensor zero = grid.zero.unsqueeze(1);
    return scale * (torch::clamp(torch::round(w / scale) + zero, 0.0, maxq) - zero);
}

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
        const int steps = static_cast<int>(search.maxShrink * search.grid);
        for (int i = 0; i < steps; ++i) {
            const double p = 1.0 - static_cast<double>(i) / search.grid;
            const RowGrid candidate = gridOfRange(lo * p, hi * p, bits, symmetric, false);
            const torch::Tensor error = (quantizeRows(w, candidate, maxq) - w).abs_().pow_(search.norm).sum(1);
            const torch::Tensor better = error < bestError; // strict: the first p wins ties
            bestError = torch::where(better, error, bestError);
            best.scale = torch::where(better, candidate.scale, best.scale);
            best.zero = torch::where(better, candidate.zero, best.zero);
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
