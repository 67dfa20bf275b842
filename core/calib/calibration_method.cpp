#include "calib/calibration_method.h"

#include "calib/gptq.h"
#include "calib/hessian.h"
#include "calib/omniquant.h"
#include "calib/tesseraq.h"
#include "model/weight_layout.h"
#include "util/batches.h"
#include "util/error.h"

#include <chrono>

namespace core {
namespace {

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Round-to-nearest: no data needed to quantize; the Hessians only serve the error metric.
class RtnMethod : public CalibrationMethod {
public:
    std::string name() const override { return "rtn"; }
    void calibrateBlock(BlockCalibrationContext& ctx) override
    {
        const std::vector<std::string> all = linearShortNames(ctx.config.family);
        const auto hessians = collectHessians(ctx, all);
        for (std::size_t i = 0; i < all.size(); ++i) {
            ctx.cancel.throwIfCancelled();
            const auto start = std::chrono::steady_clock::now();
            torch::Tensor& weight = ctx.weights.tensors.at(all[i] + ".weight");
            QuantizedLinear stored = quantizeRtnStored(weight, ctx.spec);
            const torch::Tensor quantized = stored.dequantize();
            ctx.layers.push_back(
                measureLayer(ctx, all[i], weight, quantized, hessians.at(all[i]), secondsSince(start)));
            ctx.stored[ctx.layerPrefix + all[i]] = std::move(stored);
            ctx.hessians[all[i]] = hessians.at(all[i]);
            weight = quantized;
            if (ctx.onStep)
                ctx.onStep(all[i], static_cast<double>(i + 1) / static_cast<double>(all.size()), {});
        }
    }
};

class GptqMethod : public CalibrationMethod {
public:
    explicit GptqMethod(const GptqConfig& config)
    {
        m_options.blockSize = config.blockSize;
        m_options.percentDamp = config.percentDamp;
        m_options.actOrder = config.actOrder;
    }
    std::string name() const override { return "gptq"; }
    void calibrateBlock(BlockCalibrationContext& ctx) override
    {
        const auto groups = sequentialLinearGroups(ctx.config.family);
        for (std::size_t g = 0; g < groups.size(); ++g) {
            ctx.cancel.throwIfCancelled();
            // Inputs of this group come from the block with the earlier groups already quantized.
            const auto hessians = collectHessians(ctx, groups[g]);
            for (const auto& shortName : groups[g]) {
                ctx.cancel.throwIfCancelled();
                const auto start = std::chrono::steady_clock::now();
                torch::Tensor& weight = ctx.weights.tensors.at(shortName + ".weight");
                GptqResult result;
                try {
                    result = gptqQuantize(weight, hessians.at(shortName), ctx.spec, m_options);
                } catch (const Error& e) {
                    throw Error(ctx.layerPrefix + shortName + ": " + e.what());
                }
                ctx.layers.push_back(measureLayer(ctx, shortName, weight, result.quantized, hessians.at(shortName),
                                                  secondsSince(start)));
                ctx.stored[ctx.layerPrefix + shortName] = std::move(result.stored);
                ctx.hessians[shortName] = hessians.at(shortName);
                weight = result.quantized;
            }
            if (ctx.onStep)
                ctx.onStep(groups[g].front(), static_cast<double>(g + 1) / static_cast<double>(groups.size()), {});
        }
    }

private:
    GptqOptions m_options;
};

} // namespace

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
    const LinearObserver observer = [&](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
        auto it = accumulators.find(layer);
        if (it != accumulators.end())
            it->second.add(input);
    };
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
    if (config.method == "rtn")
        return std::make_unique<RtnMethod>();
    if (config.method == "gptq")
        return std::make_unique<GptqMethod>(config.gptq.value_or(GptqConfig{}));
    if (config.method == "omniquant")
        return std::make_unique<OmniQuantMethod>(config.omniquant.value_or(OmniQuantConfig{}), config.loss,
                                                 config.calibration.seed);
    if (config.method == "tesseraq")
        return std::make_unique<TesseraQMethod>(config.tesseraq.value_or(TesseraQConfig{}), config.loss,
                                                config.calibration.seed);
    std::string known;
    for (const auto& n : runMethodNames())
        known += (known.empty() ? "" : ", ") + n;
    throw Error("method '" + config.method + "' is unknown (known: " + known + ")");
}

std::unique_ptr<CalibrationMethod> createCalibrationMethod(const std::string& name)
{
    return createCalibrationMethod(defaultRunConfig(name));
}

} // namespace core
