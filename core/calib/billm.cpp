#include "calib/billm.h"

#include "util/error.h"

#include <algorithm>
#include <limits>
#include <string>

namespace core {
namespace {

using torch::indexing::Slice;

constexpr std::int64_t kBreakPoints = 81;    // quantiles 0.10, 0.11, …, 0.90 (autosearch.py)
constexpr std::int64_t kLevelsPerTable = 9;  // order 2: (s₁, s₂) ∈ {−1, 0, 1}²
constexpr std::int64_t kTablesPerBlock = 3;  // concentrated, sparse, salient
constexpr double kStatisticBits = 16.0;      // μ and α as 16-bit floats
constexpr double kBinarizationsPerRow = 4.0; // two for the salient part, one per other part

/// One residual binarization, with what the stored form needs: the signs of every order and
/// each order's per-row μ and α.
struct Binarization {
    torch::Tensor approximation;      ///< [rows, cols], 0 off the mask
    std::vector<torch::Tensor> signs; ///< per order, float {−1, 0, 1} [rows, cols]
    std::vector<torch::Tensor> mean;  ///< per order [rows, 1]
    std::vector<torch::Tensor> scale; ///< per order [rows, 1]
};

Binarization binarize(const torch::Tensor& x, const torch::Tensor& mask, int order)
{
    const torch::Tensor m = mask.to(x.scalar_type());
    const torch::Tensor count = m.sum(1, true);
    Binarization b;
    b.approximation = torch::zeros_like(x);
    for (int k = 0; k < order; ++k) {
        const torch::Tensor residual = (x - b.approximation) * m;
        // nanmean over the masked entries; a row without any gives 0 (0 / 1).
        const torch::Tensor mean = residual.sum(1, true) / count.clamp_min(1.0);
        const torch::Tensor centred = residual - mean;
        const torch::Tensor scale = (centred.abs() * m).sum(1, true) / count.clamp_min(1.0);
        const torch::Tensor sign = torch::sign(centred);
        b.approximation = b.approximation + (sign * scale + mean) * m;
        b.signs.push_back(sign);
        b.mean.push_back(mean);
        b.scale.push_back(scale);
    }
    return b;
}

double meanSquaredError(const torch::Tensor& target, const torch::Tensor& approximation)
{
    return (target - approximation).square().mean().item<double>();
}

/// Masks of one block: salient (structured: whole columns), concentrated and sparse.
struct BlockMasks {
    torch::Tensor salient, concentrated, sparse;
    std::int64_t salientColumns = 0;
};

torch::Tensor columnMask(std::int64_t rows, std::int64_t cols, const torch::Tensor& columns)
{
    torch::Tensor mask = torch::zeros({rows, cols}, torch::kBool);
    mask.index_fill_(1, columns, true);
    return mask;
}

/// utils/autosearch.py structural_searching on the block's target T [rows, width].
BlockMasks searchMasks(const torch::Tensor& T, std::int64_t searchLimit)
{
    const std::int64_t rows = T.size(0);
    const std::int64_t width = T.size(1);
    BlockMasks masks;
    const std::int64_t limit = std::min(searchLimit, width);
    const torch::Tensor order = std::get<1>(torch::topk(T.abs().sum(0), limit));
    double best = std::numeric_limits<double>::infinity();
    for (std::int64_t k = 1; k < limit; ++k) {
        const torch::Tensor salient = columnMask(rows, width, order.narrow(0, 0, k));
        const double error =
            meanSquaredError(T, binarize(T, salient, 2).approximation + binarize(T, ~salient, 2).approximation);
        if (error < best) { // strict: ties keep the smaller k
            best = error;
            masks.salientColumns = k;
        }
    }
    masks.salient = columnMask(rows, width, order.narrow(0, 0, masks.salientColumns));
    const torch::Tensor salientPart = binarize(T, masks.salient, 2).approximation;

    // Break-point candidates over |T| of the whole block, the salient entries as zeros.
    const torch::Tensor magnitude = T.abs();
    const torch::Tensor candidates = torch::quantile((T * (~masks.salient)).abs().reshape({-1}),
                                                     torch::linspace(0.10, 0.90, kBreakPoints, T.options()));
    best = std::numeric_limits<double>::infinity();
    double breakPoint = 0.0;
    for (std::int64_t i = 0; i < kBreakPoints; ++i) {
        const torch::Tensor t = candidates[i];
        const torch::Tensor sparse = (~masks.salient) & (magnitude >= t);
        const torch::Tensor concentrated = (~masks.salient) & (magnitude < t);
        const double error = meanSquaredError(T, binarize(T, concentrated, 1).approximation +
                                                     binarize(T, sparse, 1).approximation + salientPart);
        if (error < best) {
            best = error;
            breakPoint = candidates[i].item<double>();
        }
    }
    const torch::Tensor t = torch::tensor(breakPoint, T.options());
    masks.sparse = (~masks.salient) & (magnitude >= t);
    masks.concentrated = (~masks.salient) & (magnitude < t);
    return masks;
}

void validateBillmOptions(const BillmOptions& options)
{
    if (options.blockSize < 1)
        throw Error("BiLLM: block size must be at least 1 (got " + std::to_string(options.blockSize) + ")");
    if (!(options.percentDamp > 0.0))
        throw Error("BiLLM: percdamp must be positive (got " + std::to_string(options.percentDamp) + ")");
    if (options.salientSearchLimit < 2)
        throw Error("BiLLM: the salient-column search needs a limit of at least 2 (got " +
                    std::to_string(options.salientSearchLimit) + ")");
}

} // namespace

torch::Tensor residualBinarize(const torch::Tensor& x, const torch::Tensor& mask, int order)
{
    torch::NoGradGuard noGrad;
    return binarize(x, mask, order).approximation;
}

double billmStoredBits(std::int64_t rows, const std::vector<std::int64_t>& blockWidths)
{
    double bits = 0.0;
    for (const std::int64_t width : blockWidths) {
        // Two bits per weight: two signs (salient) or a sign and the part bit (the others).
        bits += static_cast<double>(rows) *
                (2.0 * static_cast<double>(width) + kBinarizationsPerRow * 2.0 * kStatisticBits);
        bits += static_cast<double>(width); // the block's salient-column bitmap
    }
    return bits;
}

double billmSignBits(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& salientColumns)
{
    double salient = 0.0;
    for (const std::int64_t k : salientColumns)
        salient += static_cast<double>(k);
    (void)rows; // every row has the block's salient columns
    return 1.0 + salient / static_cast<double>(cols);
}

BillmResult billmQuantize(const torch::Tensor& weight, const torch::Tensor& hessian, const BillmOptions& options)
{
    torch::NoGradGuard noGrad;
    const std::int64_t rows = weight.size(0);
    const std::int64_t cols = weight.size(1);
    if (hessian.dim() != 2 || hessian.size(0) != cols || hessian.size(1) != cols)
        throw Error("BiLLM: Hessian of shape [" + std::to_string(hessian.size(0)) + ", " +
                    std::to_string(hessian.size(1)) + "] does not match " + std::to_string(cols) + " input columns");
    validateBillmOptions(options);

    torch::Tensor W = weight.to(torch::kFloat32).clone();
    torch::Tensor H = hessian.to(torch::kFloat32).clone();
    // GPTQ's order: dead columns first, then damping by the mean diagonal (dead 1s included).
    const torch::Tensor dead = H.diagonal() == 0;
    H.diagonal().masked_fill_(dead, 1.0);
    W.index_put_({Slice(), dead}, 0.0);
    H.diagonal().add_(H.diagonal().mean() * options.percentDamp);
    torch::Tensor L, info;
    std::tie(L, info) = torch::linalg_cholesky_ex(H);
    if (info.item<int>() != 0)
        throw Error("BiLLM: damped Hessian is not positive definite (increase percdamp)");
    const torch::Tensor U = torch::linalg_cholesky(torch::cholesky_inverse(L), true);
    const torch::Tensor d = U.diagonal();

    const std::int64_t blocks = (cols + options.blockSize - 1) / options.blockSize;
    BillmResult result;
    result.salientMask = torch::zeros({rows, cols}, torch::kBool);
    torch::Tensor levels = torch::zeros({rows, blocks * kTablesPerBlock, kLevelsPerTable});
    torch::Tensor codes = torch::zeros({rows, cols}, torch::kUInt8);
    torch::Tensor tables = torch::zeros({rows, cols}, torch::kUInt8);
    std::vector<std::int64_t> widths;
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t start = b * options.blockSize;
        const std::int64_t width = std::min(options.blockSize, cols - start);
        widths.push_back(width);
        const torch::Tensor B = W.narrow(1, start, width).clone();
        const torch::Tensor dBlock = d.narrow(0, start, width).unsqueeze(0);
        const torch::Tensor T = options.metric == SalientMetric::Hessian ? B.square() / dBlock.square() : B;
        const BlockMasks masks = searchMasks(T, options.salientSearchLimit);
        result.salientColumns.push_back(masks.salientColumns);

        const Binarization concentrated = binarize(B, masks.concentrated, 1);
        const Binarization sparse = binarize(B, masks.sparse, 1);
        const Binarization salient = binarize(B, masks.salient, 2);
        const torch::Tensor Q = concentrated.approximation + sparse.approximation + salient.approximation;

        // The codebook: per row, table 3b + part; a level per sign combination.
        const torch::Tensor signs = torch::tensor({-1.0f, 0.0f, 1.0f});
        const auto order1 = [&](const Binarization& part, std::int64_t table) {
            levels.index_put_({Slice(), b * kTablesPerBlock + table, Slice(0, 3)},
                              signs.unsqueeze(0) * part.scale[0] + part.mean[0]);
        };
        order1(concentrated, 0);
        order1(sparse, 1);
        const torch::Tensor first = signs.unsqueeze(0) * salient.scale[0] + salient.mean[0];  // [rows, 3]
        const torch::Tensor second = signs.unsqueeze(0) * salient.scale[1] + salient.mean[1]; // [rows, 3]
        levels.index_put_({Slice(), b * kTablesPerBlock + 2},
                          (first.unsqueeze(2) + second.unsqueeze(1)).reshape({rows, kLevelsPerTable}));
        const torch::Tensor code1 = torch::where(masks.concentrated, concentrated.signs[0], sparse.signs[0]) + 1;
        const torch::Tensor code2 = (salient.signs[0] + 1) * 3 + (salient.signs[1] + 1);
        codes.narrow(1, start, width).copy_(torch::where(masks.salient, code2, code1).to(torch::kUInt8));
        tables.narrow(1, start, width).copy_(masks.sparse.to(torch::kUInt8) + masks.salient.to(torch::kUInt8) * 2);
        result.salientMask.narrow(1, start, width).copy_(masks.salient);

        const torch::Tensor error = (B - Q) / dBlock;
        W.narrow(1, start, width).copy_(Q);
        if (start + width < cols)
            W.narrow(1, start + width, cols - start - width)
                .sub_(torch::matmul(error, U.narrow(0, start, width).narrow(1, start + width, cols - start - width)));
    }

    result.quantized = W;
    QuantizedLinear& stored = result.stored;
    stored.spec = {1, options.blockSize, false, QuantDialect::Gptq};
    stored.codes = codes;
    stored.levels = levels;
    stored.tableIndex = tables;
    stored.tableColumns = options.blockSize;
    stored.methodBits = billmStoredBits(rows, widths);
    return result;
}

} // namespace core
