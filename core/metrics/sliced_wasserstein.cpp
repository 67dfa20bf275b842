#include "metrics/sliced_wasserstein.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <cmath>
#include <numbers>
#include <random>
#include <string>

namespace core {
namespace {

std::string shapeText(const torch::Tensor& t)
{
    return shapeToString(t.sizes().vec());
}

// Uniform in (0, 1]: the top 53 bits of one draw, shifted away from 0 so log() is finite.
double uniformOpenZero(std::mt19937_64& engine)
{
    return (static_cast<double>(engine() >> 11) + 1.0) * 0x1.0p-53;
}

} // namespace

torch::Tensor randomUnitDirections(std::int64_t count, std::int64_t dim, std::uint64_t seed)
{
    if (count < 1 || dim < 1)
        throw Error("random directions: need count ≥ 1 and dim ≥ 1 (got " + std::to_string(count) + " × " +
                    std::to_string(dim) + ")");
    std::mt19937_64 engine(seed);
    torch::Tensor z = torch::empty({count, dim}, torch::kFloat64);
    double* data = z.data_ptr<double>();
    const std::int64_t n = count * dim;
    // Box–Muller (1958): two uniforms → two independent N(0, 1) values. std::normal_distribution
    // is not used because its algorithm differs between standard libraries.
    for (std::int64_t i = 0; i < n; i += 2) {
        const double radius = std::sqrt(-2.0 * std::log(uniformOpenZero(engine)));
        const double angle = 2.0 * std::numbers::pi * uniformOpenZero(engine);
        data[i] = radius * std::cos(angle);
        if (i + 1 < n)
            data[i + 1] = radius * std::sin(angle);
    }
    // u_k = z_k / (‖z_k‖ + 1e-8), as the SW loss does (METHODS.md §2.2 step 2).
    const torch::Tensor norms = z.norm(2, 1, true);
    return (z / (norms + 1e-8)).to(torch::kFloat32);
}

torch::Tensor projectOnto(const torch::Tensor& values, const torch::Tensor& directions)
{
    torch::NoGradGuard noGrad;
    if (directions.dim() != 2)
        throw Error("SW projection: directions must be [K, dim] (got " + shapeText(directions) + ")");
    const std::int64_t dim = directions.size(1);
    if (values.dim() == 0 || values.size(-1) != dim)
        throw Error("SW projection: values of shape " + shapeText(values) + " do not end in the directions' " +
                    std::to_string(dim) + " dimensions");
    const torch::Tensor x = values.detach().reshape({-1, dim}).to(torch::kCPU, torch::kFloat32);
    const torch::Tensor u = directions.detach().to(torch::kCPU, torch::kFloat32);
    return torch::mm(x, u.t());
}

ProjectedDistances projectedDistances(const torch::Tensor& fpProjections, const torch::Tensor& quantizedProjections)
{
    torch::NoGradGuard noGrad;
    if (fpProjections.dim() != 2 || !fpProjections.sizes().equals(quantizedProjections.sizes()))
        throw Error("SW distances: FP projections " + shapeText(fpProjections) + " and quantized projections " +
                    shapeText(quantizedProjections) + " must be two [N, K] tensors of the same shape");
    if (fpProjections.size(0) == 0 || fpProjections.size(1) == 0)
        throw Error("SW distances: projections " + shapeText(fpProjections) + " are empty");
    // Equal sizes: the optimal 1-D coupling pairs the i-th smallest of each set, so W_p
    // is the mean p-th power difference of the sorted columns (METHODS.md §2.2 steps 4–5).
    const auto sorted = [](const torch::Tensor& t) {
        return std::get<0>(t.detach().to(torch::kCPU, torch::kFloat32).sort(0)).to(torch::kFloat64);
    };
    const torch::Tensor diff = sorted(fpProjections) - sorted(quantizedProjections);
    ProjectedDistances result;
    result.w1 = diff.abs().mean(0);
    result.w2 = diff.square().mean(0).sqrt();
    result.sw1 = result.w1.mean().item<double>();
    result.sw2 = std::sqrt(result.w2.square().mean().item<double>());
    return result;
}

torch::Tensor columnQuantiles(const torch::Tensor& projections, std::int64_t levels)
{
    torch::NoGradGuard noGrad;
    if (levels < 1)
        throw Error("column quantiles: levels must be at least 1 (got " + std::to_string(levels) + ")");
    if (projections.dim() != 2 || projections.size(0) == 0)
        throw Error("column quantiles: projections must be a non-empty [N, K] tensor (got " + shapeText(projections) +
                    ")");
    const std::int64_t n = projections.size(0);
    const torch::Tensor sorted =
        std::get<0>(projections.detach().to(torch::kCPU, torch::kFloat32).sort(0)).to(torch::kFloat64);
    // Position p·(N − 1) between order statistics, as torch.quantile(interpolation="linear");
    // k·(N − 1) / levels rounds once, so whole positions (the ends included) are exact.
    const torch::Tensor position =
        torch::arange(levels + 1, torch::kFloat64) * static_cast<double>(n - 1) / static_cast<double>(levels);
    const torch::Tensor below = position.floor().to(torch::kLong).clamp(0, n - 1);
    const torch::Tensor above = (below + 1).clamp_max(n - 1);
    const torch::Tensor fraction = (position - below.to(torch::kFloat64)).unsqueeze(1);
    const torch::Tensor low = sorted.index_select(0, below);
    const torch::Tensor high = sorted.index_select(0, above);
    return (low + fraction * (high - low)).t().contiguous().to(torch::kFloat32);
}

} // namespace core
