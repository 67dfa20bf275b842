#include "calib/gptq.h"

#include "util/error.h"

namespace core {

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

    // Per-channel grid fitted once on the whole row when there are no groups.
    QuantGrid grid = fitColumnGrid(W, spec);

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
        torch::Tensor W1 = W.narrow(1, i1, count).clone();
        torch::Tensor Q1 = torch::zeros_like(W1);
        torch::Tensor Err1 = torch::zeros_like(W1);
        torch::Tensor Losses1 = torch::zeros_like(W1);
        const torch::Tensor Hinv1 = Hinv.narrow(0, i1, count).narrow(1, i1, count);
        for (std::int64_t i = 0; i < count; ++i) {
            const std::int64_t column = i1 + i;
            // As the reference: group parameters come from W, which holds the updates of
            // earlier blocks but not yet those made inside the current block.
            if (g > 0 && column % g == 0) {
                grid = fitColumnGrid(W.narrow(1, column, g), spec);
                groupScales.push_back(grid.scale);
                groupZeros.push_back(grid.zero);
            }
            const torch::Tensor w = W1.select(1, i);
            const double d = Hinv1[i][i].item<double>();
            const torch::Tensor q = fakeQuantizeColumn(w, grid.scale, grid.zero, grid.maxq);
            Q1.select(1, i).copy_(q);
            Losses1.select(1, i).copy_((w - q).pow(2) / (d * d));
            const torch::Tensor err = (w - q) / d;
            W1.narrow(1, i, count - i).sub_(torch::outer(err, Hinv1[i].narrow(0, i, count - i)));
            Err1.select(1, i).copy_(err);
        }
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
