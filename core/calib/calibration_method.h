#pragma once
// The interface every calibration method implements (ARCHITECTURE.md,
// "Calibration pipeline"), and the registry that picks one by name.

#include "calib/layer_metrics.h"
#include "calib/model_context.h"
#include "config/run_config.h"
#include "loss/loss_curve.h"
#include "model/decoder_forward.h"
#include "quant/quantized_linear.h"
#include "util/cancel_token.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

/// Everything a method may use while it calibrates one block.
struct BlockCalibrationContext {
    const ModelConfig& config;
    std::int64_t blockIndex = 0;
    std::string layerPrefix;      ///< blockPrefix(config, blockIndex)
    BlockWeights& weights;        ///< in: full precision; out: quantized (dequantized float32)
    const torch::Tensor& inputs;  ///< quantized-stream inputs of this block [samples, T, H]
    const torch::Tensor& targets; ///< FP block outputs on the FP stream [samples, T, H]
    const AttentionContext& attention;
    const WeightQuantSpec& spec;
    const CancelToken& cancel;
    std::int64_t batchSize = 8; ///< samples per forward pass
    /// Sub-step report: name, fraction within the block, and named values for live plots
    /// (learning methods: the step number and each loss term; others pass none).
    std::function<void(const std::string& step, double fraction,
                       const std::vector<std::pair<std::string, double>>& values)>
        onStep;
    std::vector<LayerMetrics>& layers;              ///< the method appends one entry per Linear
    std::map<std::string, QuantizedLinear>& stored; ///< the method adds each Linear's stored form, by layer name
    /// The method adds the Hessian it used (or measured) for each Linear, by short name,
    /// for the saliency diagnostics; methods without one leave it empty.
    std::map<std::string, torch::Tensor>& hessians;
    const GlobalWeights* globals = nullptr; ///< final norm + output head (losses on logits)
    BlockLossCurve* lossCurve = nullptr;    ///< learning methods append their per-step losses
    /// The run's activation/KV fake-quant (null: weight-only). Every forward of the block being
    /// quantized on the quantized stream passes it, so the method calibrates what inference runs.
    const ForwardHooks* streamHooks = nullptr;
    /// The whole working model (blocks before this one quantized, after it FP), for methods
    /// that need more than the block: the output loss through the later blocks (OAC).
    ModelContext* model = nullptr;
    /// A method that changes the block's basis (LET's scales, rotations) sets this to the FP
    /// block in the new basis, unquantized: the diagnostics compare its weights and the inputs
    /// it reads with the quantized block's (like with like). Unset: the FP block itself.
    std::optional<BlockWeights> fpReference;
    /// A method quantizing with OAC's output-adaptive Hessian (calib/hessian_source.h) adds it
    /// here by short name, beside the 2XXᵀ in `hessians`: the diagnostics record both saliencies.
    std::map<std::string, torch::Tensor> outputAdaptiveHessians;
};

/// Whether the block tensor `shortName` ("mlp.up_proj.weight") is the weight of a Linear that
/// `stored` (by full layer name) holds: the rest of a block's tensors are stored as folded.
inline bool isStoredLinearWeight(const std::string& prefix, const std::string& shortName,
                                 const std::map<std::string, QuantizedLinear>& stored)
{
    constexpr std::string_view suffix = ".weight";
    return shortName.ends_with(suffix) && stored.count(prefix + shortName.substr(0, shortName.size() - suffix.size()));
}

/// ctx.streamHooks, or no hooks.
inline ForwardHooks streamHooksOf(const BlockCalibrationContext& ctx)
{
    return ctx.streamHooks ? *ctx.streamHooks : ForwardHooks{};
}

/// A method's three stages (issue 15 §2); only calibrateBlock is required. Each checks the
/// context's cancel token between sub-steps (throws core::Cancelled).
class CalibrationMethod {
public:
    virtual ~CalibrationMethod() = default;
    virtual std::string name() const = 0;
    /// Before the block loop, on the FP working model: rotations, global transforms, gradient
    /// statistics over the whole model.
    virtual void prepareModel(ModelContext& /*model*/) {}
    /// Replaces the Linear weights of ctx.weights by their quantized versions.
    virtual void calibrateBlock(BlockCalibrationContext& ctx) = 0;
    /// After the block loop, on the quantized working model: adaptation, global fine-tuning.
    virtual void finishModel(ModelContext& /*model*/) {}
    /// True when calibrateBlock sets ctx.fpReference (the pipeline then keeps the block's FP
    /// inputs until the method is done, for the diagnostics in the new basis).
    virtual bool changesBlockBasis() const { return false; }
    /// True when calibrateBlock quantizes on the quantized stream without the run's activation
    /// and KV fake-quant (ctx.streamHooks is then null and the stream advances without it), as
    /// the rotation methods' GPTQ pass does (OSTQuant's gptq_fwrd runs with act quant off);
    /// evaluation still applies it.
    virtual bool calibratesOnUnquantizedActivations() const { return false; }
    /// The share of the calibration's progress that prepareModel takes (0 when it is quick):
    /// OSTQuant's whole-model training outlasts its block loop, and a bar that sits at 0 % for
    /// most of the run looks hung.
    virtual double preparationShare() const { return 0.0; }
    /// What later blocks need of the method's earlier stages (what prepareModel measured and
    /// calibrateBlock has not used up yet), by name: a resumed run (calib/pipeline_checkpoint.h)
    /// restores it instead of running prepareModel again. Methods without such state keep the
    /// defaults; every random draw of a block is seeded from (seed, block, step), so no RNG
    /// state needs saving.
    virtual std::map<std::string, torch::Tensor> stateForLaterBlocks() const { return {}; }
    virtual void restoreStateForLaterBlocks(std::map<std::string, torch::Tensor> /*state*/) {}
};

/// The method a run config names, with its options. Throws core::Error listing the
/// known names for an unknown method.
std::unique_ptr<CalibrationMethod> createCalibrationMethod(const RunConfig& config);
/// The method `name` with default options.
std::unique_ptr<CalibrationMethod> createCalibrationMethod(const std::string& name);

/// Runs the block over ctx.inputs in batches with the current ctx.weights (and the run's stream
/// hooks) and returns, for each requested Linear, the Hessian 2XᵀX/n of the inputs it
/// multiplied (after activation fake-quant when the run quantizes activations).
std::map<std::string, torch::Tensor> collectHessians(const BlockCalibrationContext& ctx,
                                                     const std::vector<std::string>& shortNames);

/// Per-Linear metrics of a quantized weight (relative output error under `hessian`, SQNR).
LayerMetrics measureLayer(const BlockCalibrationContext& ctx, const std::string& shortName,
                          const torch::Tensor& original, const torch::Tensor& quantized, const torch::Tensor& hessian,
                          double seconds);

/// Groups of a block's Linears that read the same input, in execution order
/// ({q, k, v}, {o}, {gate, up}, {down} for LLaMA): GPTQ quantizes group by group,
/// each seeing the inputs produced by the already quantized groups.
std::vector<std::vector<std::string>> sequentialLinearGroups(ModelFamily family);

} // namespace core
