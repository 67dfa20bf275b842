// PTQ1.61 (Zhao et al., ACL 2025; METHODS.md §8) as a block method: before the block loop the FP
// model's per-channel input statistics pick each Linear's salient input channels
// (calib/channel_statistics.h, quant/structured_mask.h); each block then trains the binarized
// part's scales on MSE + NLC against both FP targets (calib/ptq161.h) and hands over the stored
// structured-mask form, whose bit count is the run's effective bits.
#include "calib/block_training.h"
#include "calib/channel_statistics.h"
#include "calib/learning_rate_option.h"
#include "calib/ptq161.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "model/weight_layout.h"
#include "util/error.h"
#include "util/stopwatch.h"

namespace core {
namespace {

struct Ptq161Options {
    double salientFraction = 0.0;
    int salientBits = 0;
    bool meanStatistic = false; ///< mean |x| (the paper's pseudocode) instead of max |x| (the code)
    std::int64_t epochs = 0;
    std::int64_t batchSize = 0;
    double scaleLearningRate = 0.0;
    double rankLearningRate = 0.0;
    bool quantizedInputTarget = false;

    static Ptq161Options from(const MethodOptions& options)
    {
        Ptq161Options o;
        o.salientFraction = options.number("salient_fraction");
        o.salientBits = static_cast<int>(options.integer("salient_bits"));
        o.meanStatistic = options.choice("salient_statistic") == "mean";
        o.epochs = options.integer("epochs");
        o.batchSize = options.integer("batch_size");
        o.scaleLearningRate = options.number("scale_lr");
        o.rankLearningRate = options.number("rank_lr");
        o.quantizedInputTarget = options.boolean("quantized_input_target");
        return o;
    }
};

class Ptq161Method : public CalibrationMethod {
public:
    Ptq161Method(Ptq161Options options, std::vector<LossTerm> loss, std::uint64_t seed)
        : m_options(options), m_loss(std::move(loss)), m_seed(seed)
    {
    }
    std::string name() const override { return "ptq161"; }

    void prepareModel(ModelContext& model) override
    {
        for (const auto& [layer, statistics] : fpLinearInputStatistics(model))
            m_salient[layer] = salientChannels(m_options.meanStatistic ? statistics.absMean : statistics.absMax,
                                               m_options.salientFraction, layer);
    }

    void calibrateBlock(BlockCalibrationContext& ctx) override
    {
        const Stopwatch stopwatch;
        const std::vector<std::string> names = linearShortNames(ctx.config.family);
        std::map<std::string, torch::Tensor> salient;
        for (const auto& name : names) {
            const auto found = m_salient.find(ctx.layerPrefix + name);
            if (found == m_salient.end())
                throw Error(ctx.layerPrefix + name + ": no salient channels were chosen (internal error)");
            salient[name] = found->second;
        }
        const auto hessians = collectHessians(ctx, names); // error metric and saliency diagnostics
        const torch::Tensor augTargets =
            m_options.quantizedInputTarget ? fpBlockOnQuantizedInputs(ctx) : torch::Tensor();
        StructuredMaskBlockTrainer trainer(ctx.config, ctx.weights, ctx.layerPrefix, salient, m_options.salientBits,
                                           m_options.scaleLearningRate, m_options.rankLearningRate);
        const CompositeLoss loss = makeBlockLoss(m_loss, m_seed, ctx);
        BlockLossCurve curve = trainOverSamples(
            [&](const torch::Tensor& inputs, const torch::Tensor& targets, const torch::Tensor& aug,
                std::int64_t step) {
                return trainer.step(loss, inputs, targets, aug, ctx.attention, ctx.streamHooks, ctx.blockIndex, step);
            },
            loss.termNames(), ctx, augTargets, m_options.epochs, m_options.batchSize, "scales");
        handOverTrainedLinears(
            ctx, hessians, [&](const std::string& name) { return trainer.stored(name); }, stopwatch.seconds());
        if (ctx.lossCurve)
            *ctx.lossCurve = std::move(curve);
        for (const auto& name : names)
            m_salient.erase(ctx.layerPrefix + name);
    }

    std::map<std::string, torch::Tensor> stateForLaterBlocks() const override { return m_salient; }
    void restoreStateForLaterBlocks(std::map<std::string, torch::Tensor> state) override
    {
        m_salient = std::move(state);
    }

private:
    Ptq161Options m_options;
    std::vector<LossTerm> m_loss;
    std::uint64_t m_seed;
    std::map<std::string, torch::Tensor> m_salient; ///< by full layer name, until the block is done
};

} // namespace

MethodDescriptor ptq161Method()
{
    MethodDescriptor method;
    method.name = "ptq161";
    method.description = "Sub-2-bit: salient input channels (1-D mask) at 4 bits, the rest binarized with trained "
                         "per-row and rank-1 scales";
    method.reference = "Zhao et al., ACL 2025; METHODS.md §8";
    method.capabilities.learnsBlockParameters = true;
    method.capabilities.takesLoss = true;
    method.capabilities.modelStage = true;
    // The authors' loss: MSE + NLC, 1:1, against each target (METHODS.md §8.1).
    method.defaultLoss = {LossTerm{LossType::Mse, 1.0}, LossTerm{LossType::Nlc, 1.0}};
    method.options = {
        {.key = "salient_fraction",
         .type = OptionType::Number,
         .defaultValue = 0.2,
         .minimum = 0.0,
         .maximum = 0.99,
         .help = "Fraction of input channels kept at salient_bits (the authors keep int(p·d_in)+1 of them)",
         .label = "Salient fraction"},
        {.key = "salient_bits",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(4),
         .minimum = 2,
         .maximum = 8,
         .unit = "bits",
         .help = "Bits of the salient columns (asymmetric, per row over the full row, GPTQ dialect)",
         .label = "Salient bits"},
        {.key = "salient_statistic",
         .type = OptionType::Choice,
         .defaultValue = std::string("max"),
         .help = "Per-channel activation magnitude that ranks the channels: max |x| (the authors' code) or "
                 "mean |x| (the paper's pseudocode), on the FP model",
         .label = "Salient statistic",
         .choices = {"max", "mean"}},
        epochsOption(20, 0, "Passes over the calibration windows per block (README: 20); 0 keeps the initial scales"),
        windowsPerStepOption("Calibration windows per optimizer step (authors: 1)"),
        learningRateOption("scale_lr", 5e-4, "AdamW learning rate of the per-row scales α (weight decay 0)",
                           "α learning rate"),
        learningRateOption("rank_lr", 1e-3, "AdamW learning rate of the rank-1 factors r1, r2 (weight decay 0)",
                           "r1/r2 learning rate"),
        {.key = "quantized_input_target",
         .type = OptionType::Boolean,
         .defaultValue = true,
         .help = "Also match the FP block applied to the quantized stream's inputs (the authors' second target)",
         .label = "Second target"},
    };
    method.validate = [](const RunConfig& config, const std::string& source) {
        if (config.weights.bits != 1)
            throw Error(source + ": ptq161 binarizes the non-salient weights: weights.bits must be 1 (got " +
                        std::to_string(config.weights.bits) + "); the salient part's bits are ptq161.salient_bits");
        if (config.weights.groupSize != -1)
            throw Error(source +
                        ": ptq161 quantizes the salient columns per row over the full row: "
                        "weights.group_size must be -1 (got " +
                        std::to_string(config.weights.groupSize) + ")");
    };
    method.nameSuffix = [](const MethodOptions& options) {
        std::string suffix =
            "p" + std::to_string(static_cast<int>(options.number("salient_fraction") * 100 + 0.5)) + "%";
        if (options.choice("salient_statistic") == "mean")
            suffix += " mean|x|";
        return suffix;
    };
    method.create = [](const RunConfig& config) {
        return std::make_unique<Ptq161Method>(Ptq161Options::from(config.options), config.loss,
                                              config.calibration.seed);
    };
    return method;
}

} // namespace core
