// BiLLM (Huang et al., ICML 2024; METHODS.md §6.5) as a block method: calib/billm.h for each
// Linear in the Hessian methods' block loop (calib/hessian_method.h); with hessian = oac it is
// OAC-binary (METHODS.md §6.3).
#include "calib/billm.h"
#include "calib/hessian_method.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "util/error.h"

namespace core {
namespace {

BillmOptions billmOptions(const MethodOptions& options)
{
    BillmOptions billm;
    billm.blockSize = options.integer("block_size");
    billm.percentDamp = options.number("percdamp");
    billm.metric = options.choice("salient_metric") == "magnitude" ? SalientMetric::Magnitude : SalientMetric::Hessian;
    return billm;
}

} // namespace

MethodDescriptor billmMethod()
{
    MethodDescriptor method;
    method.name = "billm";
    method.description = "Binarization: salient columns with residual binarization, the rest split at a searched "
                         "break-point (2XXᵀ, or OAC's output-adaptive Hessian: OAC-binary)";
    method.reference = "Huang et al., ICML 2024; METHODS.md §6.5";
    method.options = {
        blockSizeOption("Columns per block: the salient columns, break-point and statistics are chosen per block"),
        percentDampOption(0.01, 10.0, "Damping added to the Hessian diagonal, as a fraction of its mean"),
        {.key = "salient_metric",
         .type = OptionType::Choice,
         .defaultValue = std::string("hessian"),
         .help = "What picks salient columns and the break-point: W²/U_jj² (hessian) or the weights (magnitude)",
         .label = "Salient metric",
         .choices = {"hessian", "magnitude"}},
    };
    addHessianSource(method);
    method.nameSuffix = [](const MethodOptions& options) {
        return hessianMethodSuffix(options, options.choice("salient_metric") == "magnitude" ? "magnitude" : "");
    };
    method.validate = [](const RunConfig& config, const std::string& source) {
        if (config.weights.bits != 1)
            throw Error(source + ": billm binarizes the weights: weights.bits must be 1 (got " +
                        std::to_string(config.weights.bits) + ")");
    };
    method.create = [](const RunConfig& config) {
        const BillmOptions options = billmOptions(config.options);
        return std::make_unique<HessianLinearMethod>(
            "billm", hessianSourceOptions(config.options),
            [options](const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec&) {
                BillmResult result = billmQuantize(weight, hessian, options); // 1 bit: see validate
                return QuantizedWeight{std::move(result.quantized), std::move(result.stored)};
            });
    };
    return method;
}

} // namespace core
