#pragma once
// Where a Hessian-based method (GPTQ, SpQR, BiLLM) gets the Hessian it quantizes with
// (issue 16 §1): GPTQ's layer-wise 2XXᵀ ("xtx"), OAC's output-adaptive Ĥ ("oac"), or their
// blend ("blend", METHODS.md §6.7). The three options are part of each such method's section
// (gptq.hessian, spqr.hessian, ...), declared once here.
//
// OAC schedules: "sequential" computes block b's Ĥ when block b is calibrated (blocks < b
// already quantized, the gradient flowing through the FP blocks after b; the paper's setting as
// far as it can be recovered); "one_shot" computes every Ĥ on the FP model before the block loop,
// in one backward pass per window. Within a block every Linear's Ĥ is taken at the block's start
// (before its first Linear is quantized): the paper does not say more, and recomputing it after
// each of GPTQ's Linear groups would cost four times as many backward passes.

#include "calib/calibration_method.h"
#include "config/option_schema.h"

#include <map>
#include <string>
#include <vector>

namespace core {

enum class HessianSource { LayerWise, OutputAdaptive, Blend };
enum class OacSchedule { Sequential, OneShot };

struct HessianSourceOptions {
    HessianSource source = HessianSource::LayerWise;
    OacSchedule schedule = OacSchedule::Sequential;
    double blendBeta = 1.0; ///< weight of the normalized 2XXᵀ in "blend"
};

/// The options hessian (xtx | oac | blend), oac_schedule (sequential | one_shot), blend_beta.
std::vector<OptionSpec> hessianSourceOptionSpecs();
HessianSourceOptions hessianSourceOptions(const MethodOptions& options);
/// "" for xtx, "oac", "oac one-shot", "blend β=0.5": added to automatic run names.
std::string hessianSourceSuffix(const MethodOptions& options);

/// The Hessians of one group of Linears that read the same input.
struct GroupHessian {
    torch::Tensor quantizeWith; ///< what the method uses (by the source)
    torch::Tensor layerWise;    ///< 2XXᵀ/n of the Linear's inputs (metrics and diagnostics)
};

/// Computes the Hessians of a run's source for one method instance, block after block.
class HessianProvider {
public:
    explicit HessianProvider(HessianSourceOptions options) : m_options(options) {}

    /// One-shot OAC: every Ĥ on the FP model (the method's prepareModel calls this).
    void prepareModel(ModelContext& model);
    /// Sequential OAC: Ĥ of this block's Linears (the method calls this first in calibrateBlock).
    void beginBlock(BlockCalibrationContext& ctx);
    /// The group's Hessians on the block's current weights (2XXᵀ from one pass over ctx.inputs,
    /// exactly collectHessians). Publishes 2XXᵀ in ctx.hessians and Ĥ in
    /// ctx.outputAdaptiveHessians for the diagnostics.
    std::map<std::string, GroupHessian> forGroup(BlockCalibrationContext& ctx,
                                                 const std::vector<std::string>& shortNames);

    /// One-shot OAC's Ĥ of the blocks not calibrated yet (resume: calib/pipeline_checkpoint.h).
    const std::map<std::string, torch::Tensor>& unusedHessians() const { return m_outputAdaptive; }
    void restoreUnusedHessians(std::map<std::string, torch::Tensor> hessians)
    {
        m_outputAdaptive = std::move(hessians);
    }

private:
    bool usesOutputAdaptive() const { return m_options.source != HessianSource::LayerWise; }

    HessianSourceOptions m_options;
    std::map<std::string, torch::Tensor> m_outputAdaptive; ///< Ĥ not yet used, by full layer name
};

} // namespace core
