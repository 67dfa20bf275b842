#pragma once
// The block loop shared by the Hessian-based methods (GPTQ, SpQR, BiLLM): a block's Linears are
// quantized group by group (sequentialLinearGroups), each group on the inputs the already
// quantized groups produce, each Linear against the Hessian of the run's source
// (calib/hessian_source.h). A method supplies only how one Linear is quantized.

#include "calib/calibration_method.h"
#include "calib/hessian_source.h"
#include "config/method_descriptor.h"

#include <functional>
#include <string>

namespace core {

/// One Linear's result: the dequantized weights and their stored form.
struct QuantizedWeight {
    torch::Tensor quantized; ///< float32 [rows, cols]
    QuantizedLinear stored;
};

/// Quantizes `weight` against `hessian` (the source's: 2XXᵀ, Ĥ or their blend) with the run's
/// spec. Throws core::Error; the loop prefixes the layer name.
using LinearQuantizer =
    std::function<QuantizedWeight(const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec&)>;

class HessianLinearMethod : public CalibrationMethod {
public:
    HessianLinearMethod(std::string name, HessianSourceOptions hessian, LinearQuantizer quantize)
        : m_name(std::move(name)), m_hessians(hessian), m_quantize(std::move(quantize))
    {
    }
    std::string name() const override { return m_name; }
    void prepareModel(ModelContext& model) override { m_hessians.prepareModel(model); }
    void calibrateBlock(BlockCalibrationContext& ctx) override;
    std::map<std::string, torch::Tensor> stateForLaterBlocks() const override { return m_hessians.unusedHessians(); }
    void restoreStateForLaterBlocks(std::map<std::string, torch::Tensor> state) override
    {
        m_hessians.restoreUnusedHessians(std::move(state));
    }

private:
    std::string m_name;
    HessianProvider m_hessians;
    LinearQuantizer m_quantize;
};

/// The options the Hessian methods share: block_size (default 128) and percdamp, a fraction of
/// the mean Hessian diagonal in (0, maximum].
OptionSpec blockSizeOption(const std::string& help);
OptionSpec percentDampOption(double defaultValue, double maximum, const std::string& help);
/// Appends the Hessian source's options (hessian, oac_schedule, blend_beta) and marks the
/// method model-stage (one-shot OAC takes its Hessians from the whole FP model).
void addHessianSource(MethodDescriptor& method);
/// "oac act-order": the source's run-name suffix with the method's own after it.
std::string hessianMethodSuffix(const MethodOptions& options, const std::string& own);

} // namespace core
