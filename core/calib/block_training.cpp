#include "calib/block_training.h"

#include "model/weight_layout.h"
#include "util/batches.h"
#include "util/error.h"

#include <cmath>
#include <cstdio>

namespace core {

CompositeLoss makeBlockLoss(const std::vector<LossTerm>& terms, std::uint64_t seed, const BlockCalibrationContext& ctx)
{
    CompositeLoss loss(terms.empty() ? std::vector<LossTerm>{LossTerm{}} : terms, seed);
    if (loss.needsLogits()) {
        if (!ctx.globals)
            throw Error("the kl_top loss needs the model's output head (internal error)");
        const ModelConfig& config = ctx.config;
        const GlobalWeights& globals = *ctx.globals;
        loss.setLogitHead(
            [&config, &globals](const torch::Tensor& hidden) { return outputLogits(config, globals, hidden); });
    }
    return loss;
}

torch::Tensor fpBlockOnQuantizedInputs(const BlockCalibrationContext& ctx)
{
    torch::NoGradGuard noGrad;
    torch::Tensor outputs = torch::empty_like(ctx.inputs);
    forEachBatch(ctx.inputs.size(0), ctx.batchSize, ctx.cancel, [&](std::int64_t first, std::int64_t count) {
        outputs.narrow(0, first, count)
            .copy_(decoderBlock(ctx.config, ctx.weights, ctx.inputs.narrow(0, first, count), ctx.attention,
                                ctx.layerPrefix));
    });
    return outputs;
}

std::map<std::string, torch::Tensor> inputAbsMax(const BlockCalibrationContext& ctx)
{
    torch::NoGradGuard noGrad;
    std::map<std::string, torch::Tensor> maxima;
    const ForwardHooks observer =
        observing([&](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
            const torch::Tensor m = std::get<0>(input.reshape({-1, input.size(-1)}).abs().max(0));
            torch::Tensor& slot = maxima[layer.substr(ctx.layerPrefix.size())];
            slot = slot.defined() ? torch::maximum(slot, m) : m;
        });
    forEachBatch(ctx.inputs.size(0), ctx.batchSize, ctx.cancel, [&](std::int64_t first, std::int64_t count) {
        decoderBlock(ctx.config, ctx.weights, ctx.inputs.narrow(0, first, count), ctx.attention, ctx.layerPrefix,
                     &observer);
    });
    return maxima;
}

void reportTrainingStep(const BlockCalibrationContext& ctx, const std::string& stage, double loss, std::int64_t step,
                        std::int64_t totalSteps, bool force, const std::vector<std::string>& terms,
                        const std::vector<double>& values)
{
    if (!ctx.onStep || (!force && step % 16 != 0))
        return;
    char message[160];
    std::snprintf(message, sizeof message, "%s, loss %.5g", stage.c_str(), loss);
    std::vector<std::pair<std::string, double>> named{{"step", static_cast<double>(step + 1)}};
    for (std::size_t t = 0; t < values.size(); ++t)
        named.emplace_back(t < terms.size() ? terms[t] : std::string("total"), values[t]);
    ctx.onStep(message, static_cast<double>(step + 1) / static_cast<double>(totalSteps + 1), named);
}

LossEvaluation blockTrainingStep(torch::optim::Optimizer& optimizer, const std::function<BlockWeights()>& block,
                                 const ModelConfig& config, const std::string& layerPrefix, const CompositeLoss& loss,
                                 const torch::Tensor& inputs, const torch::Tensor& targets,
                                 const torch::Tensor& augTargets, const AttentionContext& attention,
                                 const ForwardHooks* streamHooks, std::int64_t blockIndex, std::int64_t stepIndex,
                                 const std::string& method)
{
    torch::AutoGradMode enableGrad(true); // the pipeline runs without gradients
    const torch::Tensor prediction = decoderBlock(config, block(), inputs, attention, layerPrefix, streamHooks);
    LossEvaluation evaluation = loss.evaluate(prediction, targets, blockIndex, stepIndex);
    if (augTargets.defined())
        evaluation.total = evaluation.total + loss.evaluate(prediction, augTargets, blockIndex, stepIndex).total;
    const double total = evaluation.total.item<double>();
    if (!std::isfinite(total))
        throw Error(method + ": the loss is not finite at " + layerPrefix.substr(0, layerPrefix.size() - 1) +
                    ", step " + std::to_string(stepIndex + 1));
    optimizer.zero_grad();
    evaluation.total.backward();
    optimizer.step();
    evaluation.terms.push_back(total);
    return evaluation;
}

BlockLossCurve trainOverSamples(const std::function<LossEvaluation(const torch::Tensor&, const torch::Tensor&,
                                                                   const torch::Tensor&, std::int64_t)>& step,
                                const std::vector<std::string>& termNames, const BlockCalibrationContext& ctx,
                                const torch::Tensor& augTargets, std::int64_t epochs, std::int64_t batchSize,
                                const std::string& stage)
{
    BlockLossCurve curve;
    curve.terms = termNames;
    const std::int64_t samples = ctx.inputs.size(0);
    const std::int64_t batch = std::min(batchSize, samples);
    curve.stepsPerEpoch = (samples + batch - 1) / batch;
    const std::int64_t totalSteps = curve.stepsPerEpoch * epochs;
    std::int64_t index = 0;
    for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
        double epochLoss = 0.0;
        for (std::int64_t first = 0; first < samples; first += batch, ++index) {
            ctx.cancel.throwIfCancelled();
            const std::int64_t count = std::min(batch, samples - first);
            LossEvaluation evaluation =
                step(ctx.inputs.narrow(0, first, count), ctx.targets.narrow(0, first, count),
                     augTargets.defined() ? augTargets.narrow(0, first, count) : augTargets, index);
            const double value = evaluation.terms.back();
            epochLoss += value;
            const bool lastOfEpoch = first + batch >= samples;
            reportTrainingStep(ctx, stage + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                               lastOfEpoch ? epochLoss / static_cast<double>(curve.stepsPerEpoch) : value, index,
                               totalSteps, lastOfEpoch, curve.terms, evaluation.terms);
            curve.steps.push_back(std::move(evaluation.terms));
        }
    }
    return curve;
}

void handOverTrainedLinears(BlockCalibrationContext& ctx, const std::map<std::string, torch::Tensor>& hessians,
                            const std::function<QuantizedLinear(const std::string&)>& storedOf, double seconds)
{
    const std::vector<std::string> names = linearShortNames(ctx.config.family);
    for (const auto& name : names) {
        QuantizedLinear stored = storedOf(name);
        torch::Tensor quantized = stored.dequantize();
        const torch::Tensor original = ctx.weights.at(name + ".weight");
        ctx.layers.push_back(measureLayer(ctx, name, original, quantized, hessians.at(name),
                                          seconds / static_cast<double>(names.size())));
        ctx.stored[ctx.layerPrefix + name] = std::move(stored);
        ctx.hessians[name] = hessians.at(name);
        ctx.weights.tensors[name + ".weight"] = quantized;
    }
    if (ctx.onStep)
        ctx.onStep("done", 1.0, {});
}

} // namespace core
