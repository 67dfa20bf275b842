#include "calib/omniquant.h"

#include "calib/block_training.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <chrono>
#include <cmath>

namespace core {

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

QuantGrid LwcBlockTrainer::grid(const std::string& shortName) const
{
    torch::NoGradGuard noGrad;
    return m_clippings.at(shortName).grid(m_fpWeights.at(shortName + ".weight"));
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
    const auto hessians = collectHessians(ctx, linearShortNames(ctx.config.family));
    const torch::Tensor augTargets = m_options.augLoss ? fpBlockOnQuantizedInputs(ctx) : torch::Tensor();
    LwcBlockTrainer trainer(ctx.config, ctx.weights, ctx.layerPrefix, ctx.spec, m_options.lwcLearningRate);
    const CompositeLoss loss = makeBlockLoss(m_loss, m_seed, ctx);
    BlockLossCurve curve = trainLwc(trainer, loss, ctx, augTargets, m_options.epochs, m_options.batchSize);
    handOverTrainedLinears(
        ctx, hessians, [&](const std::string& name) { return trainer.stored(name); },
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (ctx.lossCurve)
        *ctx.lossCurve = std::move(curve);
}

BlockLossCurve trainLwc(LwcBlockTrainer& trainer, const CompositeLoss& loss, const BlockCalibrationContext& ctx,
                        const torch::Tensor& augTargets, std::int64_t epochs, std::int64_t batchSize)
{
    BlockLossCurve curve;
    curve.terms = loss.termNames();
    const std::int64_t samples = ctx.inputs.size(0);
    const std::int64_t batch = std::min(batchSize, samples);
    curve.stepsPerEpoch = (samples + batch - 1) / batch;
    const std::int64_t totalSteps = curve.stepsPerEpoch * epochs;
    std::int64_t step = 0;
    for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
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
            reportTrainingStep(ctx,
                               "lwc epoch " + std::to_string(epoch + 1) + "/" + std::to_string(epochs),
                               lastOfEpoch ? epochLoss / static_cast<double>(curve.stepsPerEpoch) : value, step,
                               totalSteps, lastOfEpoch);
        }
    }
    return curve;
}

} // namespace core
