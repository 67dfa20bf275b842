#include "calib/calibration_method.h"

#include "calib/gptq.h"
#include "calib/hessian.h"
#include "config/method_descriptor.h"
#include "model/weight_layout.h"
#include "util/batches.h"

namespace core {

LayerMetrics measureLayer(const BlockCalibrationContext& ctx, const std::string& shortName,
                          const torch::Tensor& original, const torch::Tensor& quantized, const torch::Tensor& hessian,
                          double seconds)
{
    LayerMetrics metrics;
    metrics.name = ctx.layerPrefix + shortName;
    metrics.block = ctx.blockIndex;
    metrics.relativeError = relativeReconstructionError(original, quantized, hessian);
    metrics.sqnrDb = weightSqnrDb(original, quantized);
    metrics.seconds = seconds;
    return metrics;
}

std::vector<std::vector<std::string>> sequentialLinearGroups(ModelFamily family)
{
    if (family == ModelFamily::Llama)
        return {{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
                {"self_attn.o_proj"},
                {"mlp.gate_proj", "mlp.up_proj"},
                {"mlp.down_proj"}};
    return {{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}, {"self_attn.out_proj"}, {"fc1"}, {"fc2"}};
}

std::map<std::string, torch::Tensor> collectHessians(const BlockCalibrationContext& ctx,
                                                     const std::vector<std::string>& shortNames)
{
    torch::NoGradGuard noGrad;
    std::map<std::string, HessianAccumulator> accumulators;
    for (const auto& shortName : shortNames)
        accumulators.emplace(ctx.layerPrefix + shortName,
                             HessianAccumulator(ctx.weights.at(shortName + ".weight").size(1), ctx.inputs.device()));
    const ForwardHooks observer = streamHooksOf(ctx).with(
        observing([&](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
            auto it = accumulators.find(layer);
            if (it != accumulators.end())
                it->second.add(input);
        }));
    forEachBatch(ctx.inputs.size(0), ctx.batchSize, ctx.cancel, [&](std::int64_t first, std::int64_t count) {
        decoderBlock(ctx.config, ctx.weights, ctx.inputs.narrow(0, first, count), ctx.attention, ctx.layerPrefix,
                     &observer);
    });
    std::map<std::string, torch::Tensor> hessians;
    for (const auto& shortName : shortNames)
        hessians[shortName] = accumulators.at(ctx.layerPrefix + shortName).hessian();
    return hessians;
}

std::unique_ptr<CalibrationMethod> createCalibrationMethod(const RunConfig& config)
{
    return methodDescriptor(config.method).create(config);
}

std::unique_ptr<CalibrationMethod> createCalibrationMethod(const std::string& name)
{
    return createCalibrationMethod(defaultRunConfig(name));
}

} // namespace core
