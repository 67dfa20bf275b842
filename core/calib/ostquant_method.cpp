// OSTQuant (Hu et al., ICLR 2025; METHODS.md §7) and, by presets on the same machinery, the
// QuaRot- and SpinQuant-style baselines. prepareModel fuses the RMSNorms, initializes the
// orthogonal and scaling transforms (calib/ost_transforms.h), trains them on the model's logits
// (calib/ost_training.h), folds them into the weights in float64 and hands the transformed FP
// model to the block loop; calibrateBlock then quantizes every Linear with GPTQ (or RTN) on the
// authors' clipped weight grid (quant/clipped_grid.h), on unquantized activations as their
// gptq_fwrd does. The online rotations stay in the blocks (model/online_rotation.h), so every
// later forward — evaluation with the run's activation/KV fake-quant included — applies them.
#include "calib/gptq.h"
#include "calib/hessian_method.h"
#include "calib/ost_training.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "diagnostics/basis_comparison.h"
#include "diagnostics/diagnostics_recorder.h"
#include "model/norm_fusion.h"
#include "model/online_rotation.h"
#include "util/error.h"

#include <cmath>

namespace core {
namespace {

constexpr const char* kModelCurve = "model";

// k = 1000 on LLaMA-2's 32 000-token vocabulary (METHODS.md §7.7): the same share of a smaller one.
std::int64_t automaticTopK(std::int64_t vocabulary)
{
    return std::clamp<std::int64_t>(std::llround(static_cast<double>(vocabulary) * 1000.0 / 32000.0), 1, vocabulary);
}

class OstQuantMethod : public CalibrationMethod {
public:
    explicit OstQuantMethod(const RunConfig& config) : m_config(config), m_options(config.options)
    {
        const bool gptq = m_options.choice("weight_quantizer") == "gptq";
        GptqOptions gptqOptions;
        gptqOptions.blockSize = m_options.integer("block_size");
        gptqOptions.percentDamp = m_options.number("percdamp");
        ClipSearch clip;
        clip.enabled = m_options.boolean("clip_search");
        m_clip = clip;
        const auto quantize = [gptq, gptqOptions, clip](const torch::Tensor& weight, const torch::Tensor& hessian,
                                                        const WeightQuantSpec& spec) {
            if (gptq) {
                GptqOptions options = gptqOptions;
                options.fitGrid = [&spec, clip](const torch::Tensor& columns) {
                    return fitClippedGrid(columns, spec.bits, spec.symmetric, clip);
                };
                GptqResult result = gptqQuantize(weight, hessian, spec, options);
                return QuantizedWeight{std::move(result.quantized), std::move(result.stored)};
            }
            const QuantGrid grid = fitClippedGroups(weight, spec.bits, spec.symmetric, spec.groupSize, clip);
            const torch::Tensor quantized = fakeQuantize(weight, grid, spec.groupSize);
            return QuantizedWeight{quantized, encodeOnGrid(quantized, grid.scale, grid.zero,
                                                           contiguousGroupIndex(weight.size(1), spec.groupSize), spec,
                                                           "ostquant")};
        };
        m_quantizer = std::make_unique<HessianLinearMethod>("ostquant", HessianSourceOptions{}, quantize);
    }

    std::string name() const override { return "ostquant"; }
    bool calibratesOnUnquantizedActivations() const override { return true; }
    // Measured on the bundled model: 100 training steps take about nine tenths of the calibration.
    double preparationShare() const override { return m_options.integer("steps") > 0 ? 0.9 : 0.0; }

    void prepareModel(ModelContext& model) override
    {
        const ModelConfig& config = model.config();
        std::vector<BlockWeights> fused;
        for (std::int64_t i = 0; i < config.numLayers; ++i)
            fused.push_back(fuseBlockNorms(config, model.model().block(i)));
        const GlobalWeights fusedGlobals = fuseFinalNorm(config, model.model().globals());

        OstTransformLayout layout;
        layout.residualRotation = true;
        layout.valueRotation = m_options.boolean("rotate_ov");
        layout.scalings = m_options.boolean("scalings");
        layout.onlineDownRotation = m_options.boolean("online_down_hadamard");
        layout.onlineQueryKeyRotation = m_options.boolean("online_qk_hadamard") && m_config.kv.enabled();
        const OstRotationInit init =
            m_options.choice("init") == "klt" ? OstRotationInit::Klt : OstRotationInit::RandomHadamard;
        OstTransforms transforms = initialOstTransforms(config, fused, layout, init, m_config.calibration.seed);

        const OstTrainingOptions training = trainingOptions(config);
        std::vector<LayerMetric> metrics = {{kModelCurve, -1, "train_steps", static_cast<double>(training.steps)}};
        if (training.loss == OstLoss::KlTop)
            metrics.push_back({kModelCurve, -1, "train_top_k", static_cast<double>(training.topK)});
        const OstTrainingResult trained = trainOstTransforms(model, fused, fusedGlobals, transforms, training);
        if (!trained.curve.empty()) {
            model.recordLossCurve(kModelCurve, trained.curve);
            const std::size_t total = trained.curve.terms.size();
            metrics.push_back({kModelCurve, -1, "loss_first_epoch", trained.curve.epochMean(0, total)});
            metrics.push_back({kModelCurve, -1, "loss_last_epoch", trained.curve.epochMean(-1, total)});
            metrics.push_back({kModelCurve, -1, "orth_error_max", trained.maxOrthogonalityError});
            metrics.push_back({kModelCurve, -1, "train_seconds", trained.seconds});
        }
        model.recordMetrics(metrics);

        // Fold in float64 (the authors' rotate_smooth_model_inplace), then quantize block by block.
        torch::NoGradGuard noGrad;
        if (model.onStep)
            model.onStep("folding the transforms", 1.0, {});
        std::vector<BlockWeights> folded;
        for (std::int64_t i = 0; i < config.numLayers; ++i)
            folded.push_back(
                transformedBlock(config, fused[static_cast<std::size_t>(i)], i, transforms, torch::kFloat64));
        GlobalWeights foldedGlobals = transformedGlobals(fusedGlobals, transforms, torch::kFloat64);
        // The before/after picture of every Linear (QSUR, histograms, channel absmax), while the
        // working model is still the original one.
        if (ArtifactFile* artifacts = model.artifacts()) {
            if (model.onStep)
                model.onStep("QSUR before and after the transforms", 1.0, {});
            const std::int64_t windows = std::min(DiagnosticsRecorder::kRangeSamples, model.calibrationIds().size(0));
            model.recordMetrics(recordBasisComparison(model.model(), folded, foldedGlobals,
                                                      model.calibrationIds().narrow(0, 0, windows), model.attention(),
                                                      m_config.diagnostics, *artifacts, model.cancel()));
        }
        for (std::int64_t i = 0; i < config.numLayers; ++i)
            model.transformBlock(i, std::move(folded[static_cast<std::size_t>(i)]));
        model.replaceGlobals(std::move(foldedGlobals));
    }

    void calibrateBlock(BlockCalibrationContext& ctx) override { m_quantizer->calibrateBlock(ctx); }
    std::map<std::string, torch::Tensor> stateForLaterBlocks() const override
    {
        return m_quantizer->stateForLaterBlocks();
    }
    void restoreStateForLaterBlocks(std::map<std::string, torch::Tensor> state) override
    {
        m_quantizer->restoreStateForLaterBlocks(std::move(state));
    }

    // A weight-only model needs no online rotation at run time: folded into down_proj's weight
    // (the Q/K one exists only with a quantized KV cache), the run evaluates what export writes.
    void finishModel(ModelContext& model) override
    {
        if (m_config.activations.enabled() || m_config.kv.enabled())
            return;
        for (std::int64_t i = 0; i < model.config().numLayers; ++i)
            model.replaceWorkingBlock(i, withoutOnlineRotations(model.model().block(i)));
    }

private:
    OstTrainingOptions trainingOptions(const ModelConfig& config) const
    {
        OstTrainingOptions options;
        options.steps = m_options.integer("steps");
        options.batch = m_options.integer("train_batch");
        options.rotationLr = m_options.number("rotation_lr");
        options.scaleLr = m_options.number("scale_lr");
        options.loss = ostLossFromName(m_options.choice("loss"));
        const std::int64_t topK = m_options.integer("top_k");
        options.topK = topK == 0 ? automaticTopK(config.vocabSize) : std::min(topK, config.vocabSize);
        const std::string& weightQuant = m_options.choice("train_weight_quant");
        // The authors' scripts: weights fake-quantized while training for W4A16 only.
        options.weightFakeQuant = weightQuant == "on" || (weightQuant == "auto" && !m_config.activations.enabled());
        options.weightBits = m_config.weights.bits;
        options.weightSymmetric = m_config.weights.symmetric;
        options.weightGroupSize = m_config.weights.groupSize;
        options.clip = m_clip;
        options.seed = m_config.calibration.seed;
        return options;
    }

    RunConfig m_config;
    MethodOptions m_options;
    ClipSearch m_clip;
    std::unique_ptr<HessianLinearMethod> m_quantizer;
};

OptionSpec booleanOption(const std::string& key, bool value, const std::string& help, const std::string& label)
{
    return {.key = key, .type = OptionType::Boolean, .defaultValue = value, .help = help, .label = label};
}

} // namespace

MethodDescriptor ostQuantMethod()
{
    MethodDescriptor method;
    method.name = "ostquant";
    method.description = "Learned orthogonal + scaling transforms trained with KL-Top on the logits, folded, then GPTQ "
                         "(also QuaRot / SpinQuant styles by preset)";
    method.reference = "Hu et al., ICLR 2025; METHODS.md §7";
    method.capabilities.modelStage = true;
    method.options = {
        {.key = "steps",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(100),
         .minimum = 0,
         .maximum = 100000,
         .unit = "steps",
         .help = "Training steps of the transforms (0: keep the inits, as QuaRot)",
         .label = "Training steps"},
        {.key = "train_batch",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(4),
         .minimum = 1,
         .maximum = 4096,
         .unit = "windows",
         .help = "Calibration windows per training step",
         .label = "Windows per step"},
        {.key = "rotation_lr",
         .type = OptionType::Number,
         .defaultValue = 0.01689753172873217,
         .minimum = 0.0,
         .maximum = 10.0,
         .minimumExclusive = true,
         .help = "Learning rate of the rotations (Riemannian Adam on the Stiefel manifold)",
         .label = "Rotation learning rate"},
        {.key = "scale_lr",
         .type = OptionType::Number,
         .defaultValue = 0.0017898822675917248,
         .minimum = 0.0,
         .maximum = 10.0,
         .minimumExclusive = true,
         .help = "Learning rate of the scalings (Adam)",
         .label = "Scaling learning rate"},
        {.key = "loss",
         .type = OptionType::Choice,
         .defaultValue = std::string("kl_top"),
         .help = "Training loss on the logits against the FP model: KL over its top-k, full KL, MSE, or "
                 "next-token cross-entropy",
         .label = "Training loss",
         .choices = {"kl_top", "kl", "mse", "ce"}},
        {.key = "top_k",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(0),
         .minimum = 0,
         .maximum = 1000000,
         .unit = "logits",
         .help = "Logits per token that KL-Top keeps; 0 = 1000 per 32 000 vocabulary entries (the paper's share)",
         .label = "KL-Top k"},
        {.key = "init",
         .type = OptionType::Choice,
         .defaultValue = std::string("hadamard"),
         .help = "Rotation init: random Hadamard, or KLT (eigenvectors of the reader weights' covariance) times one",
         .label = "Rotation init",
         .choices = {"hadamard", "klt"}},
        booleanOption("rotate_ov", true, "Learn a rotation per KV head between v_proj and o_proj (R_ov)",
                      "Rotate V/O heads"),
        booleanOption("scalings", true, "Learn the five scaling vectors per layer (off: SpinQuant-style)",
                      "Learn scalings"),
        booleanOption("online_down_hadamard", true, "Rotate down_proj's input online by a fixed Hadamard",
                      "Online down_proj Hadamard"),
        booleanOption("online_qk_hadamard", true,
                      "Rotate Q and K by a Hadamard after RoPE when the KV cache is quantized", "Online Q/K Hadamard"),
        {.key = "train_weight_quant",
         .type = OptionType::Choice,
         .defaultValue = std::string("auto"),
         .help = "Fake-quantize weights while training: auto = only when activations are not quantized (the "
                 "authors' scripts)",
         .label = "Weight quant in training",
         .choices = {"auto", "on", "off"}},
        {.key = "weight_quantizer",
         .type = OptionType::Choice,
         .defaultValue = std::string("gptq"),
         .help = "How the transformed weights are quantized",
         .label = "Weight quantizer",
         .choices = {"gptq", "rtn"}},
        booleanOption("clip_search", true, "Search each row's clipping ratio (min Σ|Q(w) − w|^2.4)", "Clip search"),
        blockSizeOption("GPTQ columns per lazy-update block"),
        percentDampOption(0.01, 1.0, "GPTQ damping, as a fraction of the mean Hessian diagonal"),
    };
    method.validate = [](const RunConfig& config, const std::string& source) {
        if (config.weights.bits < 2)
            throw Error(source + ": weights.bits must be at least 2 for ostquant (got " +
                        std::to_string(config.weights.bits) + ")");
    };
    method.nameSuffix = [](const MethodOptions& options) {
        if (options.integer("steps") == 0)
            return std::string("untrained");
        std::string suffix = options.choice("loss");
        if (options.choice("init") == "klt")
            suffix += " klt";
        if (!options.boolean("scalings"))
            suffix += " no-scalings";
        return suffix;
    };
    method.create = [](const RunConfig& config) { return std::make_unique<OstQuantMethod>(config); };
    return method;
}

} // namespace core
