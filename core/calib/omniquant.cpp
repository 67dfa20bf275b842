#include "calib/omniquant.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <chrono>
#include <cmath>

namespace core {
namespace {

// The FP block applied to the quantized stream's inputs: OmniQuant's second target
// (aug_loss), computed once per block without gradients.
torch::Tensor fpBlockOnQuantizedInputs(const BlockCalibrationContext& ctx)
{
    torch::NoGradGuard noGrad;
    torch::Tensor outputs = torch::empty_like(ctx.inputs);
    for (std::int64_t first = 0; first < ctx.inputs.size(0); first += ctx.batchSize) {
        ctx.cancel.throwIfCancelled();
        const std::int64_t count = std::min(ctx.batchSize, ctx.inputs.size(0) - first);
        outputs.narrow(0, first, count)
            .copy_(decoderBlock(ctx.config, ctx.weights, ctx.inputs.narrow(0, first, count), ctx.attention,
                                ctx.layerPrefix));
    }
    return outputs;
}

} // namespace

LwcBlockTrainer::LwcBlockTrainer(const ModelConfig& config, const BlockWeights& fpWeights, const std::string& layerPrefix,
                                 const WeightQuantSpec& spec, double learningRate)
    : m_config(config), m_fpWeights(fpWeights), m_prefix(layerPrefix), m_names(linearShortNames(config.family))
{
    std::vector<torch::Tensor> parameters;
    for (const auto& name : m_names) {
        auto& clipping =
            m_clippings.emplace(name, LearnableClipping(m_fpWeights.at(name + ".weight"), spec)).first->second;
        parameters.push_back(clipping.upperLogits());
        parameters.push_back(clipping.lowerLogits());
    }
    // Weight decay 0, as the paper trains the clipping logits.
    m_optimizer = std::make_unique<torch::optim::AdamW>(parameters,
                                                        torch::optim::AdamWOptions(learningRate).weight_decay(0.0));
}

BlockWeights LwcBlockTrainer::clippedBlock() const
{
    BlockWeights block = m_fpWeights;
    for (const auto& name : m_names)
        block.tensors[name + ".weight"] = m_clippings.at(name).quantize(m_fpWeights.at(name + ".weight"));
    return block;
}

LossEvaluation LwcBlockTrainer::step(const CompositeLoss& loss, const torch::Tensor& inputs,
                                     const torch::Tensor& targets, const torch::Tensor& augTargets,
                                     const AttentionContext& attention, std::int64_t blockIndex, std::int64_t stepIndex)
{
    torch::AutoGradMode enableGrad(true); // the pipeline runs without gradients
    const torch::Tensor prediction = decoderBlock(m_config, clippedBlock(), inputs, attention, m_prefix);
    LossEvaluation evaluation = loss.evaluate(prediction, targets, blockIndex, stepIndex);
    if (augTargets.defined())
        evaluation.total = evaluation.total + loss.evaluate(prediction, augTargets, blockIndex, stepIndex).total;
    const double total = evaluation.total.item<double>();
    if (!std::isfinite(total))
        throw Error("omniquant: the loss is not finite at " + m_prefix.substr(0, m_prefix.size() - 1) + ", step " +
                    std::to_string(stepIndex + 1));
    m_optimizer->zero_grad();
    evaluation.total.backward();
    m_optimizer->step();
    evaluation.terms.push_back(total);
    return evaluation;
}

BlockWeights LwcBlockTrainer::quantizedWeights() const
{
    torch::NoGradGuard noGrad;
    BlockWeights block = m_fpWeights;
    for (const auto& name : m_names)
        block.tensors[name + ".weight"] = stored(name).dequantize();
    return block;
}

QuantizedLinear LwcBlockTrainer::stored(const std::string& shortName) const
{
    return m_clippings.at(shortName).stored(m_fpWeights.at(shortName + ".weight"));
}

OmniQuantMethod::OmniQuantMethod(const OmniQuantConfig& options, std::vector<LossTerm> loss, std::uint64_t seed)
    : m_options(options), m_loss(loss.empty() ? std::vector<LossTerm>{LossTerm{}} : std::move(loss)), m_seed(seed)
{
}

void OmniQuantMethod::calibrateBlock(BlockCalibrationContext& ctx)
{
    const auto start = std::chrono::steady_clock::now();
    // The Hessians of the FP block on the quantized stream serve the error metric and the
    // saliency diagnostics, as for RTN.
    const std::vector<std::string> names = linearShortNames(ctx.config.family);
    const auto hessians = collectHessians(ctx, names);
    const torch::Tensor augTargets = m_options.augLoss ? fpBlockOnQuantizedInputs(ctx) : torch::Tensor();
    LwcBlockTrainer trainer(ctx.config, ctx.weights, ctx.layerPrefix, ctx.spec, m_options.lwcLearningRate);

    CompositeLoss loss(m_loss, m_seed);
    if (loss.needsLogits()) {
        if (!ctx.globals)
            throw Error("omniquant: the kl_top loss needs the model's output head (internal error)");
        // A block-wise method has no model logits: kl_top compares the two block outputs
        // through the final norm and head ("logit lens"); exact at the last block.
        loss.setLogitHead([&](const torch::Tensor& hidden) { return outputLogits(ctx.config, *ctx.globals, hidden); });
    }
    BlockLossCurve curve;
    curve.terms = loss.termNames();
    const std::int64_t samples = ctx.inputs.size(0);
    const std::int64_t batch = std::min(m_options.batchSize, samples);
    curve.stepsPerEpoch = (samples + batch - 1) / batch;
    const std::int64_t totalSteps = curve.stepsPerEpoch * m_options.epochs;
    std::int64_t step = 0;
    for (std::int64_t epoch = 0; epoch < m_options.epochs; ++epoch) {
        double epochLoss = 0.0;
        for (std::int64_t first = 0; first < samples; first += batch, ++step) {
            ctx.cancel.throwIfCancelled();
            const std::int64_t count = std::min(batch, samples - first);
            LossEvaluation evaluation =
                trainer.step(loss, ctx.inputs.narrow(0, first, count), ctx.targets.narrow(0, first, count),
                             augTargets.defined() ? augTargets.narrow(0, first, count) : augTargets, ctx.attention,
                             ctx.blockIndex, step);
            const double value = evaluation.terms.back();
            curve.steps.push_back(std::move(evaluation.terms));
            epochLoss += value;
            const bool lastOfEpoch = first + batch >= samples;
            if (ctx.onStep && (lastOfEpoch || step % 16 == 0)) {
                char message[96];
                std::snprintf(message, sizeof message, "epoch %lld/%lld, loss %.5g",
                              static_cast<long long>(epoch + 1), static_cast<long long>(m_options.epochs),
                              lastOfEpoch ? epochLoss / static_cast<double>(curve.stepsPerEpoch) : value);
                ctx.onStep(message, static_cast<double>(step + 1) / static_cast<double>(totalSteps + 1));
            }
        }
    }

    const double secondsPerLayer =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(names.size());
    for (const auto& name : names) {
        QuantizedLinear stored = trainer.stored(name);
        torch::Tensor quantized = stored.dequantize();
        const torch::Tensor& original = ctx.weights.at(name + ".weight");
        ctx.layers.push_back(measureLayer(ctx, name, original, quantized, hessians.at(name), secondsPerLayer));
        ctx.stored[ctx.layerPrefix + name] = std::move(stored);
        ctx.hessians[name] = hessians.at(name);
        ctx.weights.tensors[name + ".weight"] = quantized;
    }
    if (ctx.lossCurve)
        *ctx.lossCurve = std::move(curve);
    if (ctx.onStep)
        ctx.onStep("done", 1.0);
}

} // namespace core
