#pragma once
// The interface every calibration method implements (ARCHITECTURE.md,
// "Calibration pipeline"), and the registry that picks one by name.

#include "calib/layer_metrics.h"
#include "config/run_config.h"
#include "loss/loss_curve.h"
#include "model/decoder_forward.h"
#include "quant/quantized_linear.h"
#include "util/cancel_token.h"

#include <functional>
#include <memory>
#include <string>
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
};

class CalibrationMethod {
public:
    virtual ~CalibrationMethod() = default;
    virtual std::string name() const = 0;
    /// Replaces the Linear weights of ctx.weights by their quantized versions.
    /// Checks ctx.cancel between sub-steps (throws core::Cancelled).
    virtual void calibrateBlock(BlockCalibrationContext& ctx) = 0;
};

/// The method a run config names, with its options. Throws core::Error listing the
/// known names for an unknown method.
std::unique_ptr<CalibrationMethod> createCalibrationMethod(const RunConfig& config);
/// The method `name` with default options.
std::unique_ptr<CalibrationMethod> createCalibrationMethod(const std::string& name);

/// Runs the block over ctx.inputs in batches with the current ctx.weights and returns,
/// for each requested Linear, the Hessian 2XᵀX/n of the inputs it received.
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
