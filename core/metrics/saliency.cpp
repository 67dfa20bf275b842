#include "metrics/saliency.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

namespace core {
namespace {

std::string shapeText(const torch::Tensor& t)
{
    return shapeToString(t.sizes().vec());
}

} // namespace

PooledMap maxPool(const torch::Tensor& map, std::int64_t maxSide)
{
    torch::NoGradGuard noGrad;
    if (maxSide < 1)
        throw Error("saliency max-pool: maxSide must be at least 1 (got " + std::to_string(maxSide) + ")");
    if (map.dim() != 2 || map.size(0) == 0 || map.size(1) == 0)
        throw Error("saliency max-pool: map must be a non-empty [rows, cols] tensor (got " + shapeText(map) + ")");
    const std::int64_t rows = map.size(0), cols = map.size(1);
    PooledMap pooled;
    pooled.poolRows = (rows + maxSide - 1) / maxSide;
    pooled.poolColumns = (cols + maxSide - 1) / maxSide;
    const std::int64_t outRows = (rows + pooled.poolRows - 1) / pooled.poolRows;
    const std::int64_t outCols = (cols + pooled.poolColumns - 1) / pooled.poolColumns;
    // Pad the ragged last tiles with −inf (never a maximum), then one reduction over
    // [outRows, poolRows, outCols, poolColumns].
    const torch::Tensor padded =
        torch::constant_pad_nd(map.detach().to(torch::kCPU, torch::kFloat32),
                               {0, outCols * pooled.poolColumns - cols, 0, outRows * pooled.poolRows - rows},
                               -std::numeric_limits<double>::infinity());
    pooled.values = padded.reshape({outRows, pooled.poolRows, outCols, pooled.poolColumns}).amax({1, 3});
    return pooled;
}

SaliencyResult hessianSaliency(const torch::Tensor& weight, const torch::Tensor& quantized,
                               const torch::Tensor& hessian, double percentDamp, std::int64_t topK,
                               std::int64_t maxSide)
{
    torch::NoGradGuard noGrad;
    if (weight.dim() != 2 || weight.numel() == 0)
        throw Error("saliency: weight must be a non-empty [rows, cols] tensor (got " + shapeText(weight) + ")");
    if (!quantized.sizes().equals(weight.sizes()))
        throw Error("saliency: quantized weight " + shapeText(quantized) + " does not match weight " +
                    shapeText(weight));
    const std::int64_t cols = weight.size(1);
    if (hessian.dim() != 2 || hessian.size(0) != cols || hessian.size(1) != cols)
        throw Error("saliency: Hessian " + shapeText(hessian) + " does not match " + std::to_string(cols) +
                    " input columns");
    if (!(percentDamp >= 0.0) || !std::isfinite(percentDamp))
        throw Error("saliency: damping percentage must be finite and ≥ 0 (got " + std::to_string(percentDamp) + ")");

    SaliencyResult result;
    torch::Tensor H = hessian.detach().to(torch::kCPU, torch::kFloat64).clone();
    result.hessianDiagonal = H.diagonal().to(torch::kFloat32).clone();
    // As GPTQ: a column that never saw a non-zero input gets H_jj = 1; damping is a
    // fraction of the mean diagonal after that (gptq.py fasterquant).
    const torch::Tensor dead = H.diagonal() == 0;
    H.diagonal().masked_fill_(dead, 1.0);
    H.diagonal().add_(percentDamp * H.diagonal().mean().item<double>());

    // [H⁻¹]_jj = Σ_k [L⁻¹]_kj² for H = L Lᵀ: one triangular inverse instead of the whole H⁻¹.
    torch::Tensor L, info;
    std::tie(L, info) = torch::linalg_cholesky_ex(H);
    if (info.item<int>() != 0)
        throw Error("saliency: damped Hessian is not positive definite (increase the damping percentage)");
    const torch::Tensor Linv = torch::linalg_solve_triangular(L, torch::eye(cols, H.options()), false);
    const torch::Tensor hinvDiagonal = Linv.square().sum(0).to(torch::kFloat32);

    // OBS saliency w²/[H⁻¹]_jj and quantization sensitivity (w − q)²/[H⁻¹]_jj (METHODS.md §11.4).
    const torch::Tensor W = weight.detach().to(torch::kCPU, torch::kFloat32);
    const torch::Tensor Q = quantized.detach().to(torch::kCPU, torch::kFloat32);
    const torch::Tensor deadColumns = dead.unsqueeze(0);
    const torch::Tensor obs = (W.square() / hinvDiagonal).masked_fill_(deadColumns, 0.0);
    const torch::Tensor sensitivity = ((W - Q).square() / hinvDiagonal).masked_fill_(deadColumns, 0.0);

    result.obs = maxPool(obs, maxSide);
    result.sensitivity = maxPool(sensitivity, maxSide);
    result.obsProfile = obs.sum(0, false, torch::kFloat64).to(torch::kFloat32);
    result.sensitivityProfile = sensitivity.sum(0, false, torch::kFloat64).to(torch::kFloat32);
    const double count = static_cast<double>(obs.numel());
    result.meanObs = obs.sum(torch::kFloat64).item<double>() / count;
    result.meanSensitivity = sensitivity.sum(torch::kFloat64).item<double>() / count;

    const std::int64_t k = std::min<std::int64_t>(std::max<std::int64_t>(topK, 0), obs.numel());
    if (k > 0) {
        const auto [values, indices] = obs.reshape({-1}).topk(k);
        const torch::Tensor v = values.to(torch::kFloat64).contiguous();
        const torch::Tensor idx = indices.contiguous();
        const double* vp = v.data_ptr<double>();
        const std::int64_t* ip = idx.data_ptr<std::int64_t>();
        result.topObs.reserve(static_cast<std::size_t>(k));
        for (std::int64_t i = 0; i < k; ++i)
            result.topObs.push_back({ip[i] / cols, ip[i] % cols, vp[i]});
    }
    return result;
}

double topSalientJaccard(const std::vector<SalientWeight>& a, const std::vector<SalientWeight>& b)
{
    std::set<std::pair<std::int64_t, std::int64_t>> first, both;
    for (const SalientWeight& w : a)
        first.insert({w.row, w.column});
    std::size_t shared = 0;
    for (const SalientWeight& w : b)
        if (both.insert({w.row, w.column}).second && first.count({w.row, w.column}))
            ++shared;
    const std::size_t united = first.size() + both.size() - shared;
    return united == 0 ? 1.0 : static_cast<double>(shared) / static_cast<double>(united);
}

namespace {

// Ranks 1..n, tied values sharing the mean of their ranks.
torch::Tensor averageRanks(const torch::Tensor& values)
{
    const torch::Tensor v = values.to(torch::kFloat64).contiguous();
    const std::int64_t n = v.numel();
    const torch::Tensor order = std::get<1>(torch::sort(v));
    torch::Tensor ranks = torch::empty({n}, torch::kFloat64);
    const double* x = v.data_ptr<double>();
    const std::int64_t* o = order.data_ptr<std::int64_t>();
    double* r = ranks.data_ptr<double>();
    for (std::int64_t i = 0; i < n;) {
        std::int64_t j = i;
        while (j + 1 < n && x[o[j + 1]] == x[o[i]])
            ++j;
        const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (std::int64_t k = i; k <= j; ++k)
            r[o[k]] = rank;
        i = j + 1;
    }
    return ranks;
}

} // namespace

double spearmanCorrelation(const torch::Tensor& x, const torch::Tensor& y)
{
    torch::NoGradGuard noGrad;
    if (x.numel() != y.numel())
        throw Error("Spearman correlation of vectors of different lengths");
    if (x.numel() < 2)
        return std::numeric_limits<double>::quiet_NaN();
    const torch::Tensor rx = averageRanks(x.flatten());
    const torch::Tensor ry = averageRanks(y.flatten());
    const torch::Tensor dx = rx - rx.mean();
    const torch::Tensor dy = ry - ry.mean();
    const double denominator = std::sqrt((dx * dx).sum().item<double>() * (dy * dy).sum().item<double>());
    return denominator > 0 ? (dx * dy).sum().item<double>() / denominator : std::numeric_limits<double>::quiet_NaN();
}

} // namespace core
