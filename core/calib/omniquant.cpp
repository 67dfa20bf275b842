#include "calib/omniquant.h"

#include "calib/block_training.h"
#include "calib/channel_statistics.h"
#include "calib/learning_rate_option.h"
#include "config/method_descriptor.h"

#include "model/weight_layout.h"
#include "util/error.h"
#include "util/stopwatch.h"

#include <cmath>

namespace core {

LwcBlockTrainer::LwcBlockTrainer(const ModelConfig& config, const BlockWeights& fpWeights,
                                 const std::string& layerPrefix, const WeightQuantSpec& spec, double learningRate,
                                 std::optional<EquivalentTransform> transform, double transformLearningRate,
                                 std::string methodName)
    : m_config(config), m_fpWeights(fpWeights), m_prefix(layerPrefix), m_names(linearShortNames(config.family)),
      m_transform(std::move(transform)), m_methodName(std::move(methodName))
{
    std::vector<torch::Tensor> logits;
    for (const auto& name : m_names) {
        auto& clipping =
            m_clippings.emplace(name, LearnableClipping(m_fpWeights.at(name + ".weight"), spec)).first->second;
        logits.push_back(clipping.upperLogits());
        logits.push_back(clipping.lowerLogits());
    }
    // AdamW with weight decay 0 for both groups, as the paper trains them.
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(logits, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(learningRate).weight_decay(0.0)));
    if (m_transform)
        groups.emplace_back(m_transform->parameters(),
                            std::make_unique<torch::optim::AdamWOptions>(
                                torch::optim::AdamWOptions(transformLearningRate).weight_decay(0.0)));
    m_optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups));
}

BlockWeights LwcBlockTrainer::clippedBlock() const
{
    BlockWeights block = m_transform ? m_transform->apply(m_fpWeights) : m_fpWeights;
    for (const auto& name : m_names)
        block.tensors[name + ".weight"] = m_clippings.at(name).quantize(block.at(name + ".weight"));
    return block;
}

BlockWeights LwcBlockTrainer::foldedWeights() const
{
    torch::NoGradGuard noGrad;
    if (!m_transform)
        return m_fpWeights;
    BlockWeights block = m_transform->apply(m_fpWeights);
    for (auto& [name, tensor] : block.tensors)
        if (tensor.defined())
            tensor = tensor.detach();
    return block;
}

torch::Tensor LwcBlockTrainer::inputScale(const std::string& shortName) const
{
    torch::NoGradGuard noGrad;
    const torch::Tensor scale = m_transform ? m_transform->inputScale(shortName) : torch::Tensor();
    return scale.defined() ? scale.detach() : scale; // down_proj's input is not transformed
}

LossEvaluation LwcBlockTrainer::step(const CompositeLoss& loss, const torch::Tensor& inputs,
                                     const torch::Tensor& targets, const torch::Tensor& augTargets,
                                     const AttentionContext& attention, const ForwardHooks* streamHooks,
                                     std::int64_t blockIndex, std::int64_t stepIndex)
{
    return blockTrainingStep(
        *m_optimizer, [this] { return clippedBlock(); }, m_config, m_prefix, loss, inputs, targets, augTargets,
        attention, streamHooks, blockIndex, stepIndex, m_methodName);
}

BlockWeights LwcBlockTrainer::quantizedWeights() const
{
    torch::NoGradGuard noGrad;
    BlockWeights block = foldedWeights();
    for (const auto& [name, linear] : storedLinears())
        block.tensors[name + ".weight"] = linear.dequantize();
    return block;
}

std::map<std::string, QuantizedLinear> LwcBlockTrainer::storedLinears() const
{
    const BlockWeights folded = foldedWeights();
    std::map<std::string, QuantizedLinear> linears;
    for (const auto& name : m_names)
        linears.emplace(name, m_clippings.at(name).stored(folded.at(name + ".weight")));
    return linears;
}

QuantizedLinear LwcBlockTrainer::stored(const std::string& shortName) const
{
    return m_clippings.at(shortName).stored(foldedWeights().at(shortName + ".weight"));
}

QuantGrid LwcBlockTrainer::grid(const std::string& shortName) const
{
    torch::NoGradGuard noGrad;
    return m_clippings.at(shortName).grid(foldedWeights().at(shortName + ".weight"));
}

OmniQuantMethod::OmniQuantMethod(const OmniQuantConfig& options, std::vector<LossTerm> loss, std::uint64_t seed)
    : m_options(options), m_loss(loss.empty() ? std::vector<LossTerm>{LossTerm{}} : std::move(loss)), m_seed(seed)
{
}

void OmniQuantMethod::prepareModel(ModelContext& model)
{
    if (!m_options.let || !m_options.fpActivationStatistics)
        return;
    for (auto& [layer, statistics] : fpLinearInputStatistics(model))
        m_fpInputAbsMax[layer] = std::move(statistics.absMax);
}

void OmniQuantMethod::calibrateBlock(BlockCalibrationContext& ctx)
{
    const Stopwatch stopwatch;
    const std::vector<std::string> names = linearShortNames(ctx.config.family);
    // The Hessians of the FP block on the quantized stream serve the error metric and the
    // saliency diagnostics, as for RTN.
    const auto hessians = collectHessians(ctx, names);
    const torch::Tensor augTargets = m_options.augLoss ? fpBlockOnQuantizedInputs(ctx) : torch::Tensor();
    std::optional<EquivalentTransform> transform;
    if (m_options.let) {
        std::map<std::string, torch::Tensor> absMax;
        if (m_options.fpActivationStatistics) {
            for (const auto& name : names)
                absMax[name] = m_fpInputAbsMax.at(ctx.layerPrefix + name);
        } else {
            absMax = inputAbsMax(ctx);
        }
        transform.emplace(ctx.config, ctx.weights, absMax,
                          EquivalentTransformInit{
                              .scale = m_options.letInit, .alpha = m_options.letAlpha, .shifts = m_options.letShifts});
    }
    LwcBlockTrainer trainer(ctx.config, ctx.weights, ctx.layerPrefix, ctx.spec, m_options.lwcLearningRate,
                            std::move(transform), m_options.letLearningRate, m_options.methodName);
    const CompositeLoss loss = makeBlockLoss(m_loss, m_seed, ctx);
    BlockLossCurve curve = trainLwc(trainer, loss, ctx, augTargets, m_options.epochs, m_options.batchSize);

    // The quantized Linears approximate the transformed FP weights, whose inputs are the
    // transformed inputs: measure them there (H' = H / (s sᵀ) for inputs divided by s).
    const BlockWeights folded = trainer.foldedWeights();
    std::map<std::string, torch::Tensor> foldedHessians;
    for (const auto& name : names) {
        const torch::Tensor s = trainer.inputScale(name);
        foldedHessians[name] = s.defined() ? hessians.at(name) / torch::outer(s, s) : hessians.at(name);
    }
    ctx.weights = folded;
    if (m_options.let)
        ctx.fpReference = folded; // the diagnostics compare in the transformed basis (issue 15 §5)
    std::map<std::string, QuantizedLinear> stored = trainer.storedLinears();
    handOverTrainedLinears(
        ctx, foldedHessians, [&](const std::string& name) { return std::move(stored.at(name)); }, stopwatch.seconds());
    if (ctx.lossCurve)
        *ctx.lossCurve = std::move(curve);
}

BlockLossCurve trainLwc(LwcBlockTrainer& trainer, const CompositeLoss& loss, const BlockCalibrationContext& ctx,
                        const torch::Tensor& augTargets, std::int64_t epochs, std::int64_t batchSize)
{
    return trainOverSamples(
        [&](const torch::Tensor& inputs, const torch::Tensor& targets, const torch::Tensor& aug, std::int64_t step) {
            return trainer.step(loss, inputs, targets, aug, ctx.attention, ctx.streamHooks, ctx.blockIndex, step);
        },
        loss.termNames(), ctx, augTargets, epochs, batchSize, "lwc");
}

OmniQuantConfig OmniQuantConfig::from(const MethodOptions& options)
{
    OmniQuantConfig config;
    config.epochs = options.integer("epochs");
    config.batchSize = options.integer("batch_size");
    config.lwcLearningRate = options.number("lwc_lr");
    config.augLoss = options.boolean("aug_loss");
    config.let = options.boolean("let");
    config.letLearningRate = options.number("let_lr");
    config.letAlpha = options.number("let_alpha");
    return config;
}

OmniQuantConfig OmniQuantConfig::defaults()
{
    return from(defaultOptions(methodDescriptor("omniquant").options));
}

MethodDescriptor omniQuantMethod()
{
    MethodDescriptor method;
    method.name = "omniquant";
    method.description =
        "Learnable weight clipping (and optionally LET) trained block by block on a reconstruction loss";
    method.reference = "Shao et al., ICLR 2024; METHODS.md §3";
    method.capabilities.learnsBlockParameters = true;
    method.capabilities.takesLoss = true;
    method.defaultLoss = {LossTerm{LossType::Mse, 1.0}}; // the paper's mean squared error (METHODS.md §3.4)
    method.options = {
        epochsOption(20, 1, "Passes over the calibration windows per block (paper: 20; 40 at W2)"),
        windowsPerStepOption("Calibration windows per optimizer step (paper: 1)"),
        learningRateOption("lwc_lr", 1e-2, "AdamW learning rate of the clipping logits (weight decay 0)",
                           "LWC learning rate"),
        {.key = "aug_loss",
         .type = OptionType::Boolean,
         .defaultValue = false,
         .help = "Also match the FP block on the quantized stream's inputs (the paper's W2 setting)",
         .label = "aug loss"},
        {.key = "let",
         .type = OptionType::Boolean,
         .defaultValue = false,
         .help = "Learnable equivalent transformation (LLaMA); off in the paper's weight-only runs",
         .label = "LET"},
        learningRateOption("let_lr", 5e-3, "AdamW learning rate of the LET scales", "LET learning rate"),
        {.key = "let_alpha",
         .type = OptionType::Number,
         .defaultValue = 0.5,
         .minimum = 0.0,
         .maximum = 1.0,
         .help = "SmoothQuant exponent of the LET scales' initialization",
         .label = "LET α"},
    };
    method.create = [](const RunConfig& config) {
        return std::make_unique<OmniQuantMethod>(OmniQuantConfig::from(config.options), config.loss,
                                                 config.calibration.seed);
    };
    return method;
}

} // namespace core
