#include "calib/gptq.h"

#include "util/error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace core {
namespace {

// The inner loop of Algorithm 1 for one block of columns, on column-major copies
// ([count, rows]). Rows are independent inside a block (each row's error feedback
// only touches that row), so row ranges run in parallel; per column the work is a
// quantize step and an axpy over the remaining columns of the block. The arithmetic
// is fakeQuantizeColumn's, element by element, in float32.
void quantizeBlockRows(torch::Tensor& W1, torch::Tensor& Q1, torch::Tensor& Err1, torch::Tensor& Losses1,
                       const torch::Tensor& Hinv1, const std::vector<const QuantGrid*>& columnGrid)
{
    const std::int64_t count = W1.size(0);
    const std::int64_t rows = W1.size(1);
    float* w = W1.data_ptr<float>();
    float* q = Q1.data_ptr<float>();
    float* err = Err1.data_ptr<float>();
    float* loss = Losses1.data_ptr<float>();
    const float* h = Hinv1.data_ptr<float>();
    std::vector<const float*> scales, zeros;
    for (const QuantGrid* grid : columnGrid) {
        if (!grid->scale.is_contiguous() || !grid->zero.is_contiguous())
            throw Error("GPTQ: quantization grid is not contiguous (internal error)");
        scales.push_back(grid->scale.data_ptr<float>());
        zeros.push_back(grid->zero.data_ptr<float>());
    }
    const float maxq = static_cast<float>(columnGrid.front()->maxq);
    at::parallel_for(0, rows, 256, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = 0; i < count; ++i) {
            const float d = h[i * count + i];
            const float* scale = scales[static_cast<std::size_t>(i)];
            const float* zero = zeros[static_cast<std::size_t>(i)];
            float* wi = w + i * rows;
            float* qi = q + i * rows;
            float* ei = err + i * rows;
            float* li = loss + i * rows;
            for (std::int64_t r = begin; r < end; ++r) {
                const float level = std::clamp(std::nearbyint(wi[r] / scale[r]) + zero[r], 0.0f, maxq);
                qi[r] = scale[r] * (level - zero[r]);
                const float delta = wi[r] - qi[r];
                li[r] = delta * delta / (d * d);
                ei[r] = delta / d;
            }
            for (std::int64_t j = i + 1; j < count; ++j) {
                const float hij = h[i * count + j];
                float* wj = w + j * rows;
                for (std::int64_t r = begin; r < end; ++r)
                    wj[r] -= ei[r] * hij;
            }
        }
    });
}

} // namespace

GptqResult gptqQuantize(const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec& spec,
                        const GptqOptions& options)
{
    torch::NoGradGuard noGrad;
    const std::int64_t cols = weight.size(1);
    if (hessian.dim() != 2 || hessian.size(0) != cols || hessian.size(1) != cols)
        throw Error("GPTQ: Hessian of shape [" + std::to_string(hessian.size(0)) + ", " +
                    std::to_string(hessian.size(1)) + "] does not match " + std::to_string(cols) + " input columns");
    validateWeightQuantSpec(spec, cols);

    torch::Tensor W = weight.to(torch::kFloat32).clone();
    torch::Tensor H = hessian.to(torch::kFloat32).clone();

    const auto fitGrid = [&](const torch::Tensor& columns) {
        return options.fitGrid ? options.fitGrid(columns) : fitColumnGrid(columns, spec);
    };
    // Per-channel grid fitted once on the whole row when there are no groups.
    QuantGrid grid = fitGrid(W);

    // Columns that never saw a non-zero input cannot be calibrated: fix them at 0.
    const torch::Tensor dead = H.diagonal() == 0;
    H.diagonal().masked_fill_(dead, 1.0);
    W.index_put_({torch::indexing::Slice(), dead}, 0.0);

    torch::Tensor permutation;
    if (options.actOrder) {
        permutation = torch::argsort(H.diagonal(), 0, true);
        W = W.index_select(1, permutation);
        H = H.index_select(0, permutation).index_select(1, permutation);
    }

    const double damp = options.percentDamp * H.diagonal().mean().item<double>();
    H.diagonal().add_(damp);
    // Upper Cholesky factor of H⁻¹: chol(H) → H⁻¹ → chol(H⁻¹, upper).
    torch::Tensor L, info;
    std::tie(L, info) = torch::linalg_cholesky_ex(H);
    if (info.item<int>() != 0)
        throw Error("GPTQ: damped Hessian is not positive definite (increase the damping percentage)");
    const torch::Tensor Hinv = torch::linalg_cholesky(torch::cholesky_inverse(L), true);

    torch::Tensor Q = torch::zeros_like(W);
    torch::Tensor losses = torch::zeros_like(W);
    const std::int64_t g = spec.groupSize;
    // The grid of every group, in (possibly permuted) column order, for the stored form.
    std::vector<torch::Tensor> groupScales, groupZeros;
    if (g <= 0) {
        groupScales.push_back(grid.scale);
        groupZeros.push_back(grid.zero);
    }
    for (std::int64_t i1 = 0; i1 < cols; i1 += options.blockSize) {
        const std::int64_t i2 = std::min(i1 + options.blockSize, cols);
        const std::int64_t count = i2 - i1;
        // As the reference: group parameters come from W, which holds the updates of
        // earlier blocks but not those made inside the current block, so the grids of
        // every group starting in this block can be fitted before the block runs.
        std::vector<const QuantGrid*> columnGrid(static_cast<std::size_t>(count));
        std::vector<QuantGrid> blockGrids;
        blockGrids.reserve(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) {
            const std::int64_t column = i1 + i;
            if (g > 0 && column % g == 0) {
                blockGrids.push_back(fitGrid(W.narrow(1, column, g)));
                grid = blockGrids.back();
                groupScales.push_back(grid.scale);
                groupZeros.push_back(grid.zero);
            }
            columnGrid[static_cast<std::size_t>(i)] = blockGrids.empty() ? &grid : &blockGrids.back();
        }
        // Column-major copies ([count, rows]) so that each column is contiguous.
        torch::Tensor W1 = W.narrow(1, i1, count).t().contiguous();
        torch::Tensor Q1 = torch::empty_like(W1);
        torch::Tensor Err1 = torch::empty_like(W1);
        torch::Tensor Losses1 = torch::empty_like(W1);
        const torch::Tensor Hinv1 = Hinv.narrow(0, i1, count).narrow(1, i1, count).contiguous();
        quantizeBlockRows(W1, Q1, Err1, Losses1, Hinv1, columnGrid);
        Q1 = Q1.t();
        Err1 = Err1.t();
        Losses1 = Losses1.t();
        Q.narrow(1, i1, count).copy_(Q1);
        losses.narrow(1, i1, count).copy_(Losses1 / 2.0);
        if (i2 < cols)
            W.narrow(1, i2, cols - i2).sub_(torch::matmul(Err1, Hinv.narrow(0, i1, count).narrow(1, i2, cols - i2)));
    }

    // Group g holds the columns quantized g-th (in act-order, a scattered set of inputs).
    torch::Tensor groupIndex = contiguousGroupIndex(cols, g);
    if (options.actOrder) {
        const torch::Tensor inverse = torch::argsort(permutation);
        Q = Q.index_select(1, inverse);
        losses = losses.index_select(1, inverse);
        groupIndex = groupIndex.index_select(0, inverse);
    }
    GptqResult result;
    result.quantized = Q;
    result.stored = encodeOnGrid(Q, torch::cat(groupScales, 1), torch::cat(groupZeros, 1), groupIndex, spec, "GPTQ");
    result.columnLoss = losses.sum(0);
    result.totalLoss = losses.sum().item<double>();
    return result;
}

double relativeReconstructionError(const torch::Tensor& weight, const torch::Tensor& quantized,
                                   const torch::Tensor& hessian)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor H = hessian.to(torch::kFloat64);
    const torch::Tensor W = weight.to(torch::kFloat64);
    const torch::Tensor delta = W - quantized.to(torch::kFloat64);
    const double signal = (torch::matmul(W, H) * W).sum().item<double>();
    const double noise = (torch::matmul(delta, H) * delta).sum().item<double>();
    return signal > 0 ? noise / signal : 0.0;
}

} // namespace core
