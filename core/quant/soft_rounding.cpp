#include "quant/soft_rounding.h"

#include "util/error.h"

#include <cmath>

namespace core {
namespace {

constexpr double kGamma = -0.1, kZeta = 1.1;

// Per-column view of a per-group tensor [rows, groups] → [rows, cols].
torch::Tensor perColumn(const torch::Tensor& perGroup, std::int64_t columns)
{
    const std::int64_t groupSize = columns / perGroup.size(1);
    return perGroup.repeat_interleave(groupSize, 1);
}

} // namespace

torch::Tensor SoftRounding::rectifiedSigmoid(const torch::Tensor& alpha)
{
    return torch::clamp(torch::sigmoid(alpha) * (kZeta - kGamma) + kGamma, 0.0, 1.0);
}

SoftRounding::SoftRounding(const torch::Tensor& weight, const QuantGrid& grid, const WeightQuantSpec& spec)
    : m_spec(spec), m_grid(grid)
{
    torch::NoGradGuard noGrad;
    validateWeightQuantSpec(spec, weight.size(1));
    const std::int64_t groups = spec.groupSize > 0 ? weight.size(1) / spec.groupSize : 1;
    if (grid.scale.dim() != 2 || grid.scale.size(0) != weight.size(0) || grid.scale.size(1) != groups)
        throw Error("soft rounding: grid " + c10::str(grid.scale.sizes()) + " does not fit weight " +
                    c10::str(weight.sizes()));
    m_grid.scale = grid.scale.detach().clone();
    m_grid.zero = grid.zero.detach().clone();
    const torch::Tensor x = weight.detach() / perColumn(m_grid.scale, weight.size(1));
    m_floor = torch::floor(x);
    // h⁻¹(frac): the soft weight starts exactly at W (the fraction lies in [0, 1), inside
    // h's unclamped range (γ, ζ)).
    const torch::Tensor fraction = x - m_floor;
    m_alpha = (-torch::log((kZeta - kGamma) / (fraction - kGamma) - 1.0)).requires_grad_(true);
    m_dst = torch::zeros_like(m_grid.scale).requires_grad_(true);
    m_soft = torch::ones_like(m_floor, torch::kBool);
    m_hard = torch::zeros_like(m_floor);
}

torch::Tensor SoftRounding::roundingOffsets() const
{
    return torch::where(m_soft, rectifiedSigmoid(m_alpha), m_hard);
}

torch::Tensor SoftRounding::quantize() const
{
    const std::int64_t columns = m_floor.size(1);
    const torch::Tensor scale = perColumn(m_grid.scale * 2.0 * torch::sigmoid(m_dst), columns);
    const torch::Tensor zero = perColumn(m_grid.zero, columns);
    const torch::Tensor codes = torch::clamp(m_floor + roundingOffsets() + zero, 0.0, static_cast<double>(m_grid.maxq));
    return scale * (codes - zero);
}

double SoftRounding::softFraction() const
{
    return m_soft.to(torch::kFloat64).mean().item<double>();
}

void SoftRounding::harden(double softFraction)
{
    torch::NoGradGuard noGrad;
    const std::int64_t total = m_soft.numel();
    const auto keepSoft =
        static_cast<std::int64_t>(std::floor(std::clamp(softFraction, 0.0, 1.0) * static_cast<double>(total)));
    const std::int64_t soft = m_soft.sum().item<std::int64_t>();
    if (soft <= keepSoft)
        return;
    const torch::Tensor h = rectifiedSigmoid(m_alpha);
    // Confidence |h − 0.5| of soft variables; hard ones rank last so they are never picked.
    const torch::Tensor confidence = torch::where(m_soft, (h - 0.5).abs(), torch::full_like(h, -1.0)).reshape({-1});
    const torch::Tensor chosen = std::get<1>(torch::topk(confidence, soft - keepSoft));
    m_hard.view({-1}).index_put_({chosen}, (h.reshape({-1}).index_select(0, chosen) > 0.5).to(m_hard.scalar_type()));
    m_soft.view({-1}).index_put_({chosen}, false);
}

void SoftRounding::hardenAll()
{
    harden(0.0);
}

QuantizedLinear SoftRounding::stored() const
{
    torch::NoGradGuard noGrad;
    if (m_soft.any().item<bool>())
        throw Error("soft rounding: stored form asked for while variables are still soft (internal error)");
    QuantizedLinear result;
    result.spec = m_spec;
    result.scale = (m_grid.scale * 2.0 * torch::sigmoid(m_dst)).to(torch::kFloat32).contiguous();
    result.zero = m_grid.zero.to(torch::kFloat32).contiguous();
    result.groupIndex = contiguousGroupIndex(m_floor.size(1), m_spec.groupSize);
    const torch::Tensor codes =
        torch::clamp(m_floor + m_hard + perColumn(m_grid.zero, m_floor.size(1)), 0.0, static_cast<double>(m_grid.maxq));
    result.codes = codes.to(torch::kUInt8);
    return result;
}

} // namespace core
