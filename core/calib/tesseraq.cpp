#include "calib/tesseraq.h"

#include "calib/block_training.h"
#include "calib/learning_rate_option.h"
#include "calib/omniquant.h"
#include "config/method_descriptor.h"
#include "model/weight_layout.h"
#include "quant/soft_rounding.h"
#include "util/error.h"
#include "util/stopwatch.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace core {
namespace {

// The sample order of one block: a portable shuffle seeded by run seed and block, cycled
// through in batches (the reference samples random batches; this keeps runs reproducible).
std::vector<std::int64_t> sampleOrder(std::int64_t samples, std::uint64_t seed, std::int64_t block)
{
    std::vector<std::int64_t> order(static_cast<std::size_t>(samples));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 generator(stepSeed(seed, block, -1));
    for (std::size_t i = order.size(); i > 1; --i) // Fisher–Yates: std::shuffle's algorithm is unspecified
        std::swap(order[i - 1], order[static_cast<std::size_t>(generator() % i)]);
    return order;
}

} // namespace

TesseraQMethod::TesseraQMethod(const TesseraQConfig& options, std::vector<LossTerm> loss, std::uint64_t seed)
    : m_options(options), m_loss(std::move(loss)), m_seed(seed)
{
}

void TesseraQMethod::calibrateBlock(BlockCalibrationContext& ctx)
{
    const Stopwatch stopwatch;
    const std::vector<std::string> names = linearShortNames(ctx.config.family);
    const auto hessians = collectHessians(ctx, names);
    const CompositeLoss loss = makeBlockLoss(m_loss, m_seed, ctx);

    // 1. The grid: OmniQuant's learned clipping, or the plain range.
    std::map<std::string, QuantGrid> grids;
    std::int64_t step = 0;
    WeightQuantSpec spec = ctx.spec;
    spec.dialect = QuantDialect::OmniQuant;
    if (m_options.lwcEpochs > 0) {
        LwcBlockTrainer trainer(ctx.config, ctx.weights, ctx.layerPrefix, spec, m_options.lwcLearningRate);
        const BlockLossCurve lwc = trainLwc(trainer, loss, ctx, torch::Tensor(), m_options.lwcEpochs, 1);
        step = static_cast<std::int64_t>(lwc.steps.size());
        for (const auto& name : names)
            grids[name] = trainer.grid(name);
    } else {
        for (const auto& name : names)
            grids[name] = fitQuantGrid(ctx.weights.at(name + ".weight"), spec);
    }

    // 2. Progressive adaptive rounding with dequantization scale tuning.
    std::map<std::string, SoftRounding> roundings;
    std::vector<torch::Tensor> roundingLogits, scaleLogits;
    for (const auto& name : names) {
        auto& rounding =
            roundings.emplace(name, SoftRounding(ctx.weights.at(name + ".weight"), grids.at(name), spec)).first->second;
        roundingLogits.push_back(rounding.roundingLogits());
        scaleLogits.push_back(rounding.scaleLogits());
    }
    // Adam as in the reference: the scale factors with weight decay 1e-4, the rounding
    // logits without.
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(roundingLogits, std::make_unique<torch::optim::AdamOptions>(m_options.learningRate));
    groups.emplace_back(scaleLogits, std::make_unique<torch::optim::AdamOptions>(
                                         torch::optim::AdamOptions(m_options.scaleLearningRate).weight_decay(1e-4)));
    torch::optim::Adam optimizer(std::move(groups));

    BlockLossCurve curve;
    curve.terms = loss.termNames();
    curve.stepsPerEpoch = m_options.iterations;
    const std::int64_t samples = ctx.inputs.size(0);
    const std::int64_t batch = std::min(m_options.batchSize, samples);
    const std::vector<std::int64_t> order = sampleOrder(samples, m_seed, ctx.blockIndex);
    std::size_t cursor = 0;
    const auto stages = static_cast<std::int64_t>(m_options.thresholds.size());
    const std::int64_t totalSteps = stages * m_options.iterations;
    {
        torch::AutoGradMode enableGrad(true); // the pipeline runs without gradients
        for (std::int64_t stage = 0; stage < stages; ++stage) {
            for (auto& [name, rounding] : roundings)
                rounding.harden(m_options.thresholds[static_cast<std::size_t>(stage)]);
            double stageLoss = 0.0;
            for (std::int64_t iteration = 0; iteration < m_options.iterations; ++iteration, ++step) {
                ctx.cancel.throwIfCancelled();
                std::vector<std::int64_t> picked;
                for (std::int64_t j = 0; j < batch; ++j, cursor = (cursor + 1) % order.size())
                    picked.push_back(order[cursor]);
                const torch::Tensor index = torch::tensor(picked, torch::kInt64);
                BlockWeights block = ctx.weights;
                for (const auto& [name, rounding] : roundings)
                    block.tensors[name + ".weight"] = rounding.quantize();
                const torch::Tensor prediction = decoderBlock(ctx.config, block, ctx.inputs.index_select(0, index),
                                                              ctx.attention, ctx.layerPrefix, ctx.streamHooks);
                LossEvaluation evaluation =
                    loss.evaluate(prediction, ctx.targets.index_select(0, index), ctx.blockIndex, step);
                const double value = evaluation.total.item<double>();
                if (!std::isfinite(value))
                    throw Error("tesseraq: the loss is not finite at " +
                                ctx.layerPrefix.substr(0, ctx.layerPrefix.size() - 1) + ", step " +
                                std::to_string(step + 1));
                optimizer.zero_grad();
                evaluation.total.backward();
                optimizer.step();
                evaluation.terms.push_back(value);
                stageLoss += value;
                const bool lastOfStage = iteration + 1 == m_options.iterations;
                reportTrainingStep(ctx, "rounding stage " + std::to_string(stage + 1) + "/" + std::to_string(stages),
                                   lastOfStage ? stageLoss / static_cast<double>(m_options.iterations) : value,
                                   stage * m_options.iterations + iteration, totalSteps, lastOfStage, curve.terms,
                                   evaluation.terms);
                curve.steps.push_back(std::move(evaluation.terms));
            }
        }
    }
    for (auto& [name, rounding] : roundings)
        rounding.hardenAll();
    handOverTrainedLinears(
        ctx, hessians, [&](const std::string& name) { return roundings.at(name).stored(); }, stopwatch.seconds());
    if (ctx.lossCurve)
        *ctx.lossCurve = std::move(curve);
}

TesseraQConfig TesseraQConfig::from(const MethodOptions& options)
{
    TesseraQConfig config;
    config.lwcEpochs = options.integer("lwc_epochs");
    config.lwcLearningRate = options.number("lwc_lr");
    config.thresholds = options.numbers("thresholds");
    config.iterations = options.integer("iterations");
    config.batchSize = options.integer("batch_size");
    config.learningRate = options.number("lr");
    config.scaleLearningRate = options.number("scale_lr");
    return config;
}

TesseraQConfig TesseraQConfig::defaults()
{
    return from(defaultOptions(methodDescriptor("tesseraq").options));
}

namespace {

void validateThresholds(const RunConfig& config, const std::string& source)
{
    const std::vector<double>& thresholds = config.options.numbers("thresholds");
    if (thresholds.empty())
        throw Error(source + ": tesseraq.thresholds must not be empty");
    for (std::size_t i = 1; i < thresholds.size(); ++i)
        if (thresholds[i] >= thresholds[i - 1])
            throw Error(source + ": tesseraq.thresholds must decrease (each stage hardens more), see item " +
                        std::to_string(i));
}

} // namespace

MethodDescriptor tesseraQMethod()
{
    MethodDescriptor method;
    method.name = "tesseraq";
    method.description =
        "Progressive adaptive rounding with dequantization scale tuning, block by block, on an LWC grid";
    method.reference = "Li & Panda 2024; METHODS.md §4";
    method.capabilities.learnsBlockParameters = true;
    method.capabilities.takesLoss = true;
    method.defaultLoss = {LossTerm{LossType::L2, 1.0}}; // the per-token sum of squares (METHODS.md §4.2)
    method.options = {
        {.key = "lwc_epochs",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(20),
         .minimum = 0,
         .maximum = 10000,
         .unit = "epochs",
         .help = "Epochs of the OmniQuant LWC stage that fixes the grid (0: the plain min/max grid)",
         .label = "LWC epochs"},
        learningRateOption("lwc_lr", 1e-2, "AdamW learning rate of the LWC stage", "LWC learning rate"),
        // TesseraQ's 20-stage schedule.
        {.key = "thresholds",
         .type = OptionType::NumberList,
         .defaultValue = std::vector<double>{0.8,  0.65, 0.5,  0.43, 0.38, 0.34, 0.3,  0.27, 0.24, 0.21,
                                             0.18, 0.15, 0.12, 0.10, 0.08, 0.06, 0.04, 0.02, 0.01, 0.005},
         .minimum = 0.0,
         .maximum = 1.0,
         .maximumExclusive = true,
         .help = "Fraction of rounding variables still soft in each stage (decreasing)",
         .label = "Soft fraction per stage"},
        {.key = "iterations",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(250),
         .minimum = 1,
         .maximum = 1000000,
         .unit = "steps",
         .help = "Optimizer steps per rounding stage",
         .label = "Iterations per stage"},
        {.key = "batch_size",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(4),
         .minimum = 1,
         .maximum = 4096,
         .unit = "windows",
         .help = "Calibration windows per optimizer step",
         .label = "Batch size"},
        learningRateOption("lr", 1e-3, "Adam learning rate of the rounding logits", "Rounding learning rate"),
        learningRateOption("scale_lr", 1e-3,
                           "Adam learning rate of the dequantization scale logits (weight decay 1e-4)",
                           "Scale learning rate"),
    };
    method.validate = validateThresholds;
    method.create = [](const RunConfig& config) {
        return std::make_unique<TesseraQMethod>(TesseraQConfig::from(config.options), config.loss,
                                                config.calibration.seed);
    };
    return method;
}

} // namespace core
