// GPTQ (Frantar et al., ICLR 2023; METHODS.md §5) as a block method: calib/gptq.h for each
// Linear in the Hessian methods' block loop (calib/hessian_method.h).
#include "calib/gptq.h"
#include "calib/hessian_method.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"

namespace core {
namespace {

GptqOptions gptqOptions(const MethodOptions& options)
{
    GptqOptions gptq;
    gptq.blockSize = options.integer("block_size");
    gptq.percentDamp = options.number("percdamp");
    gptq.actOrder = options.boolean("act_order");
    return gptq;
}

} // namespace

MethodDescriptor gptqMethod()
{
    MethodDescriptor method;
    method.name = "gptq";
    method.description =
        "Column-by-column quantization with Hessian-based error feedback (2XXᵀ of each Linear's inputs, or OAC's "
        "output-adaptive Hessian)";
    method.reference = "Frantar et al., ICLR 2023; METHODS.md §5";
    method.options = {
        blockSizeOption("Columns per lazy-update block"),
        percentDampOption(0.01, 1.0, "Damping added to the Hessian diagonal, as a fraction of its mean"),
        {.key = "act_order",
         .type = OptionType::Boolean,
         .defaultValue = false,
         .help = "Quantize columns by decreasing Hessian diagonal",
         .label = "act-order"},
    };
    addHessianSource(method);
    method.nameSuffix = [](const MethodOptions& options) {
        return hessianMethodSuffix(options, options.boolean("act_order") ? "act-order" : "");
    };
    method.create = [](const RunConfig& config) {
        const GptqOptions options = gptqOptions(config.options);
        return std::make_unique<HessianLinearMethod>(
            "gptq", hessianSourceOptions(config.options),
            [options](const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec& spec) {
                GptqResult result = gptqQuantize(weight, hessian, spec, options);
                return QuantizedWeight{std::move(result.quantized), std::move(result.stored)};
            });
    };
    return method;
}

} // namespace core
