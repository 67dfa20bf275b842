#include "quant/activation_quantizer.h"

#include "util/error.h"

namespace core {
namespace {

// One grid per row of `rows` [n, width]: min/max (or absmax) along the width.
torch::Tensor fakeQuantizeRows(const torch::Tensor& rows, int bits, bool symmetric, double clipRatio)
{
    torch::NoGradGuard noGrad; // the grid is fixed per forward; STE below
    torch::Tensor quantized;
    if (symmetric) {
        const double maxq = std::pow(2.0, bits - 1) - 1.0;
        torch::Tensor scale = rows.abs().amax(-1, true) * clipRatio / maxq;
        scale = torch::where(scale > 0, scale, torch::ones_like(scale)); // zeros stay zeros
        quantized = torch::clamp(torch::round(rows / scale), -(maxq + 1.0), maxq) * scale;
    } else {
        const double maxq = std::pow(2.0, bits) - 1.0;
        const torch::Tensor hi = torch::clamp_min(rows.amax(-1, true), 0.0) * clipRatio;
        const torch::Tensor lo = torch::clamp_max(rows.amin(-1, true), 0.0) * clipRatio;
        torch::Tensor scale = (hi - lo) / maxq;
        scale = torch::where(scale > 0, scale, torch::ones_like(scale));
        const torch::Tensor zero = torch::round(-lo / scale);
        quantized = (torch::clamp(torch::round(rows / scale) + zero, 0.0, maxq) - zero) * scale;
    }
    return quantized;
}

torch::Tensor straightThrough(const torch::Tensor& x, const torch::Tensor& quantized)
{
    return x.requires_grad() ? x + (quantized - x).detach() : quantized;
}

void checkBits(int bits, double clipRatio, const char* what)
{
    if (bits < 2 || bits > 8)
        throw Error(std::string(what) + " bits must be in 2..8 (16 = off), got " + std::to_string(bits));
    if (!(clipRatio > 0.0 && clipRatio <= 1.0))
        throw Error(std::string(what) + " clip ratio must be in (0, 1], got " + std::to_string(clipRatio));
}

} // namespace

torch::Tensor fakeQuantizeActivations(const torch::Tensor& x, const ActivationQuantSpec& spec)
{
    if (!spec.enabled())
        return x;
    checkBits(spec.bits, spec.clipRatio, "activation");
    const torch::Tensor rows =
        spec.granularity == ActivationGranularity::PerToken ? x.reshape({-1, x.size(-1)}) : x.reshape({1, -1});
    const torch::Tensor quantized = fakeQuantizeRows(rows.detach(), spec.bits, spec.symmetric, spec.clipRatio);
    return straightThrough(x, quantized.view(x.sizes()));
}

torch::Tensor fakeQuantizeKeyValues(const torch::Tensor& kv, const KvQuantSpec& spec)
{
    if (!spec.enabled())
        return kv;
    checkBits(spec.bits, spec.clipRatio, "kv");
    const std::int64_t headDim = kv.size(-1);
    const std::int64_t group = spec.groupSize > 0 ? spec.groupSize : headDim;
    if (headDim % group != 0)
        throw Error("kv group size " + std::to_string(group) + " does not divide the head dimension " +
                    std::to_string(headDim));
    const torch::Tensor rows = kv.detach().reshape({-1, group});
    const torch::Tensor quantized = fakeQuantizeRows(rows, spec.bits, spec.symmetric, spec.clipRatio);
    return straightThrough(kv, quantized.view(kv.sizes()));
}

ForwardHooks streamQuantizationHooks(const ActivationQuantSpec& activations, const KvQuantSpec& kv)
{
    ForwardHooks hooks;
    if (activations.enabled()) {
        checkBits(activations.bits, activations.clipRatio, "activation");
        hooks.linearInputs.push_back([activations](const std::string&, const torch::Tensor& input) {
            return fakeQuantizeActivations(input, activations);
        });
    }
    if (kv.enabled()) {
        checkBits(kv.bits, kv.clipRatio, "kv");
        hooks.keyValues.push_back([kv](const std::string&, const torch::Tensor& keys, const torch::Tensor& values) {
            return std::make_pair(fakeQuantizeKeyValues(keys, kv), fakeQuantizeKeyValues(values, kv));
        });
    }
    return hooks;
}

} // namespace core
