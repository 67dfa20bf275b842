#include "quant/weight_quantizer.h"

#include "util/error.h"

#include <cmath>
#include <limits>

namespace core {
namespace {

// [rows, cols] → [rows, groups, g]
torch::Tensor grouped(const torch::Tensor& weight, std::int64_t groupSize)
{
    const std::int64_t cols = weight.size(1);
    const std::int64_t g = groupSize > 0 ? groupSize : cols;
    return weight.reshape({weight.size(0), cols / g, g});
}

} // namespace

QuantGrid gridForRange(torch::Tensor lo, torch::Tensor hi, const WeightQuantSpec& spec)
{
    QuantGrid grid;
    grid.maxq = (1 << spec.bits) - 1;
    const double maxq = grid.maxq;
    if (spec.dialect == QuantDialect::Gptq) {
        // quant.py Quantizer.find_params: the range always contains 0.
        lo = torch::clamp_max(lo, 0.0);
        hi = torch::clamp_min(hi, 0.0);
        if (spec.symmetric) {
            hi = torch::maximum(lo.abs(), hi);
            lo = torch::where(lo < 0, -hi, lo);
        }
        const torch::Tensor empty = (lo == 0) & (hi == 0);
        lo = torch::where(empty, torch::full_like(lo, -1.0), lo);
        hi = torch::where(empty, torch::full_like(hi, 1.0), hi);
        grid.scale = (hi - lo) / maxq;
        grid.zero = spec.symmetric ? torch::full_like(grid.scale, (maxq + 1.0) / 2.0) : torch::round(-lo / grid.scale);
    } else {
        // quantizer.py UniformAffineQuantizer: scale clamped to [1e-5, 1e4].
        if (spec.symmetric) {
            const double levels = std::pow(2.0, spec.bits - 1) - 1.0;
            grid.scale = torch::clamp(torch::maximum(lo.abs(), hi.abs()) / levels, 1e-5, 1e4);
            grid.zero = torch::full_like(grid.scale, levels);
        } else {
            grid.scale = torch::clamp((hi - lo) / maxq, 1e-5, 1e4);
            grid.zero = torch::round(torch::clamp(-lo / grid.scale, -1e4, 1e4));
        }
    }
    return grid;
}

namespace {

// scale · (clamp(round(w / scale) + zero, 0, maxq) − zero) per group; with
// `straightThrough` the rounding is round_ste(x) = x + (round(x) − x).detach().
torch::Tensor fakeQuantizeGrouped(const torch::Tensor& weight, const QuantGrid& grid, std::int64_t groupSize,
                                  bool straightThrough)
{
    const torch::Tensor scale = grid.scale.unsqueeze(-1);
    const torch::Tensor zero = grid.zero.unsqueeze(-1);
    const torch::Tensor x = grouped(weight, groupSize) / scale;
    const torch::Tensor rounded = straightThrough ? x + (torch::round(x) - x).detach() : torch::round(x);
    const torch::Tensor q = torch::clamp(rounded + zero, 0.0, static_cast<double>(grid.maxq));
    return (scale * (q - zero)).reshape(weight.sizes());
}

} // namespace

std::string dialectName(QuantDialect dialect)
{
    return dialect == QuantDialect::Gptq ? "gptq" : "omniquant";
}

void validateWeightQuantSpec(const WeightQuantSpec& spec, std::int64_t columns)
{
    if (spec.bits < 1 || spec.bits > 8)
        throw Error("weights.bits must be between 1 and 8 (got " + std::to_string(spec.bits) + ")");
    if (spec.groupSize == 0 || spec.groupSize < -1)
        throw Error("weights.group_size must be -1 (per channel) or positive (got " + std::to_string(spec.groupSize) +
                    ")");
    if (columns > 0 && spec.groupSize > 0 && columns % spec.groupSize != 0)
        throw Error("weights.group_size " + std::to_string(spec.groupSize) + " does not divide the " +
                    std::to_string(columns) + " input channels");
}

QuantGrid fitQuantGrid(const torch::Tensor& weight, const WeightQuantSpec& spec)
{
    validateWeightQuantSpec(spec, weight.size(1));
    torch::NoGradGuard noGrad;
    const torch::Tensor groups = grouped(weight, spec.groupSize);
    return gridForRange(std::get<0>(groups.min(-1)), std::get<0>(groups.max(-1)), spec);
}

QuantGrid fitColumnGrid(const torch::Tensor& columns, const WeightQuantSpec& spec)
{
    torch::NoGradGuard noGrad;
    return gridForRange(std::get<0>(columns.min(1, true)), std::get<0>(columns.max(1, true)), spec);
}

torch::Tensor fakeQuantize(const torch::Tensor& weight, const QuantGrid& grid, std::int64_t groupSize)
{
    return fakeQuantizeGrouped(weight, grid, groupSize, false);
}

torch::Tensor fakeQuantizeColumn(const torch::Tensor& column, const torch::Tensor& scale, const torch::Tensor& zero,
                                 int maxq)
{
    const torch::Tensor s = scale.reshape({-1});
    const torch::Tensor z = zero.reshape({-1});
    const torch::Tensor q = torch::clamp(torch::round(column / s) + z, 0.0, static_cast<double>(maxq));
    return s * (q - z);
}

torch::Tensor quantizeRtn(const torch::Tensor& weight, const WeightQuantSpec& spec)
{
    torch::NoGradGuard noGrad;
    return fakeQuantize(weight, fitQuantGrid(weight, spec), spec.groupSize);
}

torch::Tensor fakeQuantizeSte(const torch::Tensor& weight, const QuantGrid& grid, std::int64_t groupSize)
{
    return fakeQuantizeGrouped(weight, grid, groupSize, true);
}

torch::Tensor binarize(const torch::Tensor& weight, std::int64_t groupSize)
{
    if (groupSize == 0 || groupSize < -1 || (groupSize > 0 && weight.size(1) % groupSize != 0))
        throw Error("binarization group size " + std::to_string(groupSize) + " does not divide " +
                    std::to_string(weight.size(1)) + " input channels");
    const torch::Tensor w = grouped(weight, groupSize);
    const torch::Tensor alpha = w.abs().mean(-1, true);
    const torch::Tensor sign = torch::where(w >= 0, torch::ones_like(w), -torch::ones_like(w));
    return (sign * alpha).reshape(weight.sizes());
}

double weightSqnrDb(const torch::Tensor& weight, const torch::Tensor& quantized)
{
    const double signal = weight.to(torch::kFloat64).pow(2).sum().item<double>();
    const double noise = (weight.to(torch::kFloat64) - quantized.to(torch::kFloat64)).pow(2).sum().item<double>();
    if (noise == 0.0)
        return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(signal / noise);
}

} // namespace core
