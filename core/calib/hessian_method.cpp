#include "calib/hessian_method.h"

#include "util/error.h"
#include "util/stopwatch.h"

namespace core {

void HessianLinearMethod::calibrateBlock(BlockCalibrationContext& ctx)
{
    m_hessians.beginBlock(ctx);
    const auto groups = sequentialLinearGroups(ctx.config.family);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        ctx.cancel.throwIfCancelled();
        // Inputs of this group come from the block with the earlier groups already quantized.
        const auto hessians = m_hessians.forGroup(ctx, groups[g]);
        for (const auto& shortName : groups[g]) {
            ctx.cancel.throwIfCancelled();
            const Stopwatch timer;
            torch::Tensor& weight = ctx.weights.tensors.at(shortName + ".weight");
            const GroupHessian& hessian = hessians.at(shortName);
            QuantizedWeight result;
            try {
                result = m_quantize(weight, hessian.quantizeWith, ctx.spec);
            } catch (const Error& e) {
                throw Error(ctx.layerPrefix + shortName + ": " + e.what());
            }
            // The output error is measured under 2XXᵀ whatever the source, so runs compare.
            ctx.layers.push_back(
                measureLayer(ctx, shortName, weight, result.quantized, hessian.layerWise, timer.seconds()));
            ctx.stored[ctx.layerPrefix + shortName] = std::move(result.stored);
            weight = result.quantized;
        }
        if (ctx.onStep)
            ctx.onStep(groups[g].front(), static_cast<double>(g + 1) / static_cast<double>(groups.size()), {});
    }
}

OptionSpec blockSizeOption(const std::string& help)
{
    return {.key = "block_size",
            .type = OptionType::Integer,
            .defaultValue = std::int64_t(128),
            .minimum = 1,
            .maximum = 65536,
            .unit = "columns",
            .help = help,
            .label = "Block size"};
}

OptionSpec percentDampOption(double defaultValue, double maximum, const std::string& help)
{
    return {.key = "percdamp",
            .type = OptionType::Number,
            .defaultValue = defaultValue,
            .minimum = 0.0,
            .maximum = maximum,
            .minimumExclusive = true,
            .help = help,
            .label = "Damping (percdamp)"};
}

void addHessianSource(MethodDescriptor& method)
{
    for (OptionSpec& spec : hessianSourceOptionSpecs())
        method.options.push_back(std::move(spec));
    method.capabilities.modelStage = true;
}

std::string hessianMethodSuffix(const MethodOptions& options, const std::string& own)
{
    const std::string source = hessianSourceSuffix(options);
    return source.empty() ? own : own.empty() ? source : source + " " + own;
}

} // namespace core
