#include "calib/spqr.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace core {
namespace {

using torch::indexing::Slice;

constexpr double kScaleFloor = 1e-9; // the reference's eps in quantize(): scale.clamp_min(eps)

torch::Tensor dequantizeCodes(const torch::Tensor& codes, const torch::Tensor& scale, const torch::Tensor& zero)
{
    return scale * (codes - zero);
}

/// Second-level quantization of one statistic [rows] (SpQR's qq_scale / qq_zero): each run of
/// `groupRows` consecutive rows gets its own asymmetric min/max grid at `bits`; returns the
/// dequantized statistic. A last, shorter run (rows not a multiple) gets its own grid too.
torch::Tensor quantizeStatistic(const torch::Tensor& values, int bits, std::int64_t groupRows)
{
    const int maxq = (1 << bits) - 1;
    const std::int64_t rows = values.size(0);
    std::vector<torch::Tensor> parts;
    for (std::int64_t start = 0; start < rows;) {
        const std::int64_t full = (rows - start) / groupRows * groupRows;
        const std::int64_t width = full > 0 ? groupRows : rows - start;
        const std::int64_t count = full > 0 ? full : width;
        const torch::Tensor runs = values.narrow(0, start, count).reshape({-1, width});
        const SpqrGrid grid = fitSpqrGrid(runs, bits, false);
        const torch::Tensor scale = grid.scale.unsqueeze(1);
        const torch::Tensor zero = grid.zero.unsqueeze(1);
        parts.push_back(dequantizeCodes(spqrCodes(runs, scale, zero, maxq), scale, zero).reshape({-1}));
        start += count;
    }
    return torch::cat(parts);
}

/// Σ_k ((q(w_k) − w_k) / d_k)² per row of `values` [n, width] on their own min/max grid.
torch::Tensor scaledQuantizationError(const torch::Tensor& values, const torch::Tensor& d, int bits, bool symmetric)
{
    const int maxq = (1 << bits) - 1;
    const SpqrGrid grid = fitSpqrGrid(values, bits, symmetric);
    const torch::Tensor scale = grid.scale.unsqueeze(1);
    const torch::Tensor zero = grid.zero.unsqueeze(1);
    const torch::Tensor reconstructed = dequantizeCodes(spqrCodes(values, scale, zero, maxq), scale, zero);
    return ((reconstructed - values) / d).square().sum(-1);
}

/// The reference's get_leave_one_out_error: for every weight of the group [rows, g], how much the
/// row's Hessian-scaled squared error drops when that weight is left out of the grid fit (and,
/// not being quantized, contributes no error). [rows, g].
torch::Tensor leaveOneOutErrorReduction(const torch::Tensor& group, const torch::Tensor& d, int bits, bool symmetric)
{
    const std::int64_t rows = group.size(0);
    const std::int64_t width = group.size(1);
    // others[i] = every index of the group but i, ascending: [width, width − 1].
    const torch::Tensor all = torch::arange(width, torch::kInt64);
    const torch::Tensor others =
        all.slice(0, 1).unsqueeze(0) - (all.unsqueeze(1) >= all.slice(0, 1).unsqueeze(0)).to(torch::kInt64);
    const torch::Tensor leftOut = group.index_select(1, others.reshape({-1})).reshape({rows * width, width - 1});
    const torch::Tensor dOthers = d.index_select(0, others.reshape({-1})).reshape({width, width - 1}).repeat({rows, 1});
    const torch::Tensor looError = scaledQuantizationError(leftOut, dOthers, bits, symmetric).reshape({rows, width});
    const torch::Tensor baseError = scaledQuantizationError(group, d.unsqueeze(0), bits, symmetric).unsqueeze(1);
    return baseError - looError;
}

/// The grid of one group [rows, width] fitted at its first column: without likely outliers when
/// τ is finite, then with the statistics quantized.
SpqrGrid fitGroupGrid(const torch::Tensor& group, const torch::Tensor& d, double tau, const WeightQuantSpec& spec,
                      const SpqrOptions& options)
{
    torch::Tensor fitted = group;
    if (std::isfinite(tau)) {
        const torch::Tensor likelyOutlier = leaveOneOutErrorReduction(group, d, spec.bits, spec.symmetric) > tau;
        const torch::Tensor kept = (~likelyOutlier).to(torch::kFloat32);
        const torch::Tensor meanOfKept = (group * kept).sum(1, true) / kept.sum(1, true).clamp_min(1.0);
        fitted = torch::where(likelyOutlier, meanOfKept, group);
    }
    SpqrGrid grid = fitSpqrGrid(fitted, spec.bits, spec.symmetric);
    if (options.statisticBits > 0) {
        grid.scale = quantizeStatistic(grid.scale, options.statisticBits, options.statisticGroupSize);
        // A symmetric grid's zero is the fixed midpoint: nothing to store, so nothing to quantize.
        if (!spec.symmetric)
            grid.zero = quantizeStatistic(grid.zero, options.statisticBits, options.statisticGroupSize);
    }
    return grid;
}

void validateSpqrOptions(const SpqrOptions& options, const WeightQuantSpec& spec, std::int64_t columns)
{
    validateWeightQuantSpec(spec, columns);
    if (options.blockSize < 1)
        throw Error("SpQR: block size must be at least 1 (got " + std::to_string(options.blockSize) + ")");
    if (!(options.percentDamp > 0.0))
        throw Error("SpQR: percdamp must be positive (got " + std::to_string(options.percentDamp) + ")");
    if (options.outliers && !(options.outlierThreshold > 0.0))
        throw Error("SpQR: outlier threshold must be positive (got " + std::to_string(options.outlierThreshold) + ")");
    if (options.statisticBits < 0 || options.statisticBits > 8)
        throw Error("SpQR: statistic bits must be 0 (16-bit statistics) or 1..8 (got " +
                    std::to_string(options.statisticBits) + ")");
    if (options.statisticBits > 0 && options.statisticGroupSize < 2)
        throw Error("SpQR: statistic group size must be at least 2 rows (got " +
                    std::to_string(options.statisticGroupSize) + ")");
    const std::int64_t width = spec.groupSize > 0 ? spec.groupSize : columns;
    if (options.outliers && width < 2)
        throw Error("SpQR: outlier detection needs groups of at least 2 columns");
}

} // namespace

SpqrGrid fitSpqrGrid(const torch::Tensor& values, int bits, bool symmetric)
{
    const double maxq = (1 << bits) - 1;
    torch::Tensor low = std::get<0>(values.min(1));
    torch::Tensor high = std::get<0>(values.max(1));
    if (symmetric) {
        high = torch::maximum(low.abs(), high);
        low = torch::where(low < 0, -high, low);
    }
    const torch::Tensor constant = low == high;
    low = low.masked_fill(constant, -1.0);
    high = high.masked_fill(constant, 1.0);
    SpqrGrid grid;
    grid.scale = (high - low) / maxq;
    grid.zero = symmetric ? torch::full_like(grid.scale, (maxq + 1.0) / 2.0) : -low / grid.scale;
    return grid;
}

torch::Tensor spqrCodes(const torch::Tensor& x, const torch::Tensor& scale, const torch::Tensor& zero, int maxq)
{
    return torch::clamp(torch::round(x / scale.clamp_min(kScaleFloor) + zero), 0.0, static_cast<double>(maxq));
}

SpqrResult spqrQuantize(const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec& spec,
                        const SpqrOptions& options)
{
    torch::NoGradGuard noGrad;
    const std::int64_t rows = weight.size(0);
    const std::int64_t cols = weight.size(1);
    if (hessian.dim() != 2 || hessian.size(0) != cols || hessian.size(1) != cols)
        throw Error("SpQR: Hessian of shape [" + std::to_string(hessian.size(0)) + ", " +
                    std::to_string(hessian.size(1)) + "] does not match " + std::to_string(cols) + " input columns");
    validateSpqrOptions(options, spec, cols);
    const int maxq = (1 << spec.bits) - 1;
    const std::int64_t groupSize = spec.groupSize > 0 ? spec.groupSize : cols;

    torch::Tensor W = weight.to(torch::kFloat32).clone();
    torch::Tensor H = hessian.to(torch::kFloat32).clone();
    // The order comes from the raw Hessian, before damping and before dead columns are fixed.
    const torch::Tensor permutation =
        options.actOrder ? torch::argsort(H.diagonal(), 0, true) : torch::arange(cols, torch::kInt64);
    W = W.index_select(1, permutation);
    H = H.index_select(0, permutation).index_select(1, permutation);
    // SpQR damps first (the mean over every diagonal entry, dead zeros included), then sets the
    // dead diagonals to exactly 1: the reverse of GPTQ's order.
    const torch::Tensor dead = H.diagonal() == 0;
    H.diagonal().add_(H.diagonal().abs().mean() * options.percentDamp); // in float32, as the reference
    H.diagonal().masked_fill_(dead, 1.0);
    W.index_put_({Slice(), dead}, 0.0);

    torch::Tensor L, info;
    std::tie(L, info) = torch::linalg_cholesky_ex(H);
    if (info.item<int>() != 0)
        throw Error("SpQR: damped Hessian is not positive definite (increase percdamp)");
    const torch::Tensor U = torch::linalg_cholesky(torch::cholesky_inverse(L), true);
    const torch::Tensor d = U.diagonal().contiguous();

    // τ from the permuted, dead-zeroed weights before any update (unbiased variance over rows).
    const double tau = options.outliers ? options.outlierThreshold * (W.var(0) / d.square()).mean().item<double>()
                                        : std::numeric_limits<double>::infinity();

    // Column-major working copies ([cols, rows]): every column a contiguous row.
    torch::Tensor Wt = W.t().contiguous();
    torch::Tensor codesT = torch::zeros_like(Wt);
    torch::Tensor errorsT = torch::zeros_like(Wt);
    torch::Tensor outlierT = torch::zeros({cols, rows}, torch::kBool);
    std::vector<torch::Tensor> groupScales, groupZeros;
    SpqrGrid grid;
    for (std::int64_t start = 0; start < cols; start += options.blockSize) {
        const std::int64_t end = std::min(start + options.blockSize, cols);
        for (std::int64_t c = start; c < end; ++c) {
            if (c % groupSize == 0) {
                // The group as it is now: updated by every earlier column, including this block's.
                const std::int64_t width = std::min(groupSize, cols - c);
                grid = fitGroupGrid(Wt.narrow(0, c, width).t().contiguous(), d.narrow(0, c, width), tau, spec, options);
                groupScales.push_back(grid.scale.unsqueeze(1));
                groupZeros.push_back(grid.zero.unsqueeze(1));
            }
            const torch::Tensor w = Wt[c];
            const torch::Tensor ucc = U[c][c];
            torch::Tensor codes = spqrCodes(w, grid.scale, grid.zero, maxq);
            torch::Tensor value = dequantizeCodes(codes, grid.scale, grid.zero);
            if (std::isfinite(tau)) {
                const torch::Tensor isOutlier = ((w - value) / ucc).square() > tau;
                // Outliers keep their current value (no error to propagate); their code is that of 0.
                codes = spqrCodes(w.masked_fill(isOutlier, 0.0), grid.scale, grid.zero, maxq);
                value = torch::where(isOutlier, w, dequantizeCodes(codes, grid.scale, grid.zero));
                outlierT[c].copy_(isOutlier);
            }
            const torch::Tensor error = (w - value) / ucc;
            errorsT[c].copy_(error);
            codesT[c].copy_(codes);
            Wt[c].copy_(value);
            if (c + 1 < end)
                Wt.narrow(0, c + 1, end - c - 1)
                    .sub_(U[c].narrow(0, c + 1, end - c - 1).unsqueeze(1) * error.unsqueeze(0));
        }
        if (end < cols)
            Wt.narrow(0, end, cols - end)
                .sub_(torch::matmul(U.narrow(0, start, end - start).narrow(1, end, cols - end).t(),
                                    errorsT.narrow(0, start, end - start)));
    }

    const torch::Tensor inverse = torch::argsort(permutation);
    SpqrResult result;
    result.quantized = Wt.t().index_select(1, inverse).contiguous();
    result.outlierMask = outlierT.t().index_select(1, inverse).contiguous();
    result.outlierThreshold = tau;

    QuantizedLinear& stored = result.stored;
    stored.spec = spec;
    stored.codes = codesT.t().index_select(1, inverse).to(torch::kUInt8).contiguous();
    stored.scale = torch::cat(groupScales, 1).contiguous();
    stored.zero = torch::cat(groupZeros, 1).contiguous();
    stored.groupIndex = contiguousGroupIndex(cols, groupSize).index_select(0, inverse).contiguous();
    stored.statisticBits = options.statisticBits;
    stored.statisticGroupSize = options.statisticBits > 0 ? options.statisticGroupSize : 0;
    stored.outlierIndex = result.outlierMask.reshape({-1}).nonzero().reshape({-1});
    stored.outlierValue = result.quantized.reshape({-1}).index_select(0, stored.outlierIndex);
    return result;
}

} // namespace core
