#include "quant/learnable_clipping.h"

#include "util/error.h"

namespace core {
namespace {

// [rows, cols] → [rows, groups, g]
torch::Tensor grouped(const torch::Tensor& weight, std::int64_t groupSize)
{
    const std::int64_t g = groupSize > 0 ? groupSize : weight.size(1);
    return weight.reshape({weight.size(0), weight.size(1) / g, g});
}

} // namespace

LearnableClipping::LearnableClipping(const torch::Tensor& weight, const WeightQuantSpec& spec, double initialLogit)
    : m_spec(spec)
{
    if (weight.dim() != 2)
        throw Error("learnable clipping: the weight must be 2-D, got " + c10::str(weight.sizes()));
    validateWeightQuantSpec(spec, weight.size(1));
    m_spec.dialect = QuantDialect::OmniQuant;
    const std::int64_t groups = spec.groupSize > 0 ? weight.size(1) / spec.groupSize : 1;
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(weight.device());
    m_upper = torch::full({weight.size(0), groups}, initialLogit, options).requires_grad_(true);
    m_lower = torch::full({weight.size(0), groups}, initialLogit, options).requires_grad_(true);
}

QuantGrid LearnableClipping::grid(const torch::Tensor& weight) const
{
    if (weight.dim() != 2 || weight.size(0) != m_upper.size(0))
        throw Error("learnable clipping: weight " + c10::str(weight.sizes()) + " does not match the logits " +
                    c10::str(m_upper.sizes()));
    const torch::Tensor groups = grouped(weight, m_spec.groupSize);
    // Not detached: when a learned transform (LET) produced `weight`, its gradient also
    // flows through the group range, as in the reference code.
    const torch::Tensor lo = std::get<0>(groups.min(-1));
    const torch::Tensor hi = std::get<0>(groups.max(-1));
    return gridForRange(torch::sigmoid(m_lower) * lo, torch::sigmoid(m_upper) * hi, m_spec);
}

torch::Tensor LearnableClipping::quantize(const torch::Tensor& weight) const
{
    return fakeQuantizeSte(weight, grid(weight), m_spec.groupSize);
}

QuantizedLinear LearnableClipping::stored(const torch::Tensor& weight) const
{
    torch::NoGradGuard noGrad;
    const QuantGrid g = grid(weight.detach());
    const torch::Tensor groupIndex = contiguousGroupIndex(weight.size(1), m_spec.groupSize);
    const torch::Tensor quantized = fakeQuantize(weight.detach(), g, m_spec.groupSize);
    return encodeOnGrid(quantized, g.scale, g.zero, groupIndex, m_spec, "learnable clipping");
}

} // namespace core
