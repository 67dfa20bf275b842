// SpQR (Dettmers et al., 2023; METHODS.md §6.4) as a block method: calib/spqr.h for each Linear
// in the Hessian methods' block loop (calib/hessian_method.h); with hessian = oac it is OAC-2bit
// (METHODS.md §6.3).
#include "calib/hessian_method.h"
#include "calib/spqr.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"

#include <cstdio>

namespace core {
namespace {

SpqrOptions spqrOptions(const MethodOptions& options)
{
    SpqrOptions spqr;
    spqr.blockSize = options.integer("block_size");
    spqr.percentDamp = options.number("percdamp");
    spqr.actOrder = options.boolean("act_order");
    spqr.outliers = options.boolean("outliers");
    spqr.outlierThreshold = options.number("outlier_threshold");
    spqr.statisticBits = static_cast<int>(options.integer("statistic_bits"));
    spqr.statisticGroupSize = options.integer("statistic_group_size");
    return spqr;
}

std::string numberText(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

} // namespace

MethodDescriptor spqrMethod()
{
    MethodDescriptor method;
    method.name = "spqr";
    method.description = "GPTQ with small groups, quantized group statistics and full-precision outliers "
                         "(2XXᵀ, or OAC's output-adaptive Hessian: OAC-2bit)";
    method.reference = "Dettmers et al., ICLR 2024; METHODS.md §6.4";
    method.options = {
        blockSizeOption("Columns per lazy-update block"),
        percentDampOption(1.0, 10.0,
                          "Damping added to the Hessian diagonal, as a fraction of its mean (SpQR's recipe: 1)"),
        {.key = "act_order",
         .type = OptionType::Boolean,
         .defaultValue = true,
         .help = "Quantize columns by decreasing Hessian diagonal",
         .label = "act-order"},
        {.key = "outliers",
         .type = OptionType::Boolean,
         .defaultValue = true,
         .help = "Keep weights whose scaled error exceeds the threshold in full precision",
         .label = "Outliers"},
        {.key = "outlier_threshold",
         .type = OptionType::Number,
         .defaultValue = 0.2,
         .minimum = 0.0,
         .maximum = 1000.0,
         .minimumExclusive = true,
         .help = "t in τ = t · mean_j(Var(W[:,j]) / U_jj²); larger keeps fewer outliers",
         .label = "Outlier threshold"},
        {.key = "statistic_bits",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(3),
         .minimum = 0,
         .maximum = 8,
         .unit = "bits",
         .help = "Bits of each group's scale and zero (0: 16-bit floats)",
         .label = "Statistic bits"},
        {.key = "statistic_group_size",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(16),
         .minimum = 2,
         .maximum = 65536,
         .unit = "rows",
         .help = "Consecutive output rows whose group statistics share one second-level grid",
         .label = "Statistic group size"},
    };
    addHessianSource(method);
    method.nameSuffix = [](const MethodOptions& options) {
        std::string own = options.integer("statistic_bits") > 0
                              ? "qq" + std::to_string(options.integer("statistic_bits")) + " "
                              : std::string();
        own += options.boolean("outliers") ? "t=" + numberText(options.number("outlier_threshold")) : "no outliers";
        return hessianMethodSuffix(options, own);
    };
    method.create = [](const RunConfig& config) {
        const SpqrOptions options = spqrOptions(config.options);
        return std::make_unique<HessianLinearMethod>(
            "spqr", hessianSourceOptions(config.options),
            [options](const torch::Tensor& weight, const torch::Tensor& hessian, const WeightQuantSpec& spec) {
                SpqrResult result = spqrQuantize(weight, hessian, spec, options);
                return QuantizedWeight{std::move(result.quantized), std::move(result.stored)};
            });
    };
    return method;
}

} // namespace core
