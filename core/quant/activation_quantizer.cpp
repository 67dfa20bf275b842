#include "quant/activation_quantizer.h"

#include "util/error.h"

#include <memory>
#include <mutex>

namespace core {
namespace {

// One grid per row of `rows` [n, width]: min/max (or absmax) along the width. One pass for
// the ranges and in-place element-wise steps: this runs on every Linear input of a forward.
torch::Tensor fakeQuantizeRows(const torch::Tensor& rows, int bits, bool symmetric, double clipRatio)
{
    torch::NoGradGuard noGrad; // the grid is fixed per forward; STE below
    const auto [lowest, highest] = torch::aminmax(rows, -1, /*keepdim=*/true);
    if (symmetric) {
        const double maxq = std::pow(2.0, bits - 1) - 1.0;
        torch::Tensor scale = torch::maximum(highest, -lowest) * clipRatio / maxq; // max |x| · clip / maxq
        scale = torch::where(scale > 0, scale, torch::ones_like(scale));           // zeros stay zeros
        torch::Tensor quantized = rows / scale;
        return quantized.round_().clamp_(-(maxq + 1.0), maxq).mul_(scale);
    }
    const double maxq = std::pow(2.0, bits) - 1.0;
    const torch::Tensor hi = torch::clamp_min(highest, 0.0) * clipRatio;
    const torch::Tensor lo = torch::clamp_max(lowest, 0.0) * clipRatio;
    torch::Tensor scale = (hi - lo) / maxq;
    scale = torch::where(scale > 0, scale, torch::ones_like(scale));
    const torch::Tensor zero = torch::round(-lo / scale);
    torch::Tensor quantized = rows / scale;
    return quantized.round_().add_(zero).clamp_(0.0, maxq).sub_(zero).mul_(scale);
}

torch::Tensor straightThrough(const torch::Tensor& x, const torch::Tensor& quantized)
{
    return x.requires_grad() ? x + (quantized - x).detach() : quantized;
}

// The activation hook's memo of the input it quantized last (shared by copies of the hooks).
struct LastQuantizedInput {
    std::mutex mutex;
    torch::Tensor input, output;
    std::int64_t version = 0;
};

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
        // q/k/v (and gate/up) read the same tensor: quantize it once. The last input is held,
        // so no other tensor can take its place at that address; its version counter tells an
        // in-place change.
        auto last = std::make_shared<LastQuantizedInput>();
        hooks.linearInputs.push_back([activations, last](const std::string&, const torch::Tensor& input) {
            const std::lock_guard<std::mutex> lock(last->mutex);
            if (!last->input.defined() || !input.is_same(last->input) || input._version() != last->version) {
                last->output = fakeQuantizeActivations(input, activations);
                last->input = input;
                last->version = input._version();
            }
            return last->output;
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
