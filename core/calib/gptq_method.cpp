// GPTQ (Frantar et al., ICLR 2023; METHODS.md §5) as a block method: the block's Linears
// quantized group by group (calib/gptq.h), each group on the inputs the already quantized
// groups produce.
#include "calib/calibration_method.h"
#include "calib/gptq.h"
#include "calib/hessian_source.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "util/error.h"
#include "util/stopwatch.h"

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

class GptqMethod : public CalibrationMethod {
public:
    GptqMethod(const GptqOptions& options, HessianSourceOptions hessian) : m_options(options), m_hessians(hessian) {}
    std::string name() const override { return "gptq"; }
    void prepareModel(ModelContext& model) override { m_hessians.prepareModel(model); }
    void calibrateBlock(BlockCalibrationContext& ctx) override
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
                GptqResult result;
                try {
                    result = gptqQuantize(weight, hessian.quantizeWith, ctx.spec, m_options);
                } catch (const Error& e) {
                    throw Error(ctx.layerPrefix + shortName + ": " + e.what());
                }
                ctx.layers.push_back(
                    measureLayer(ctx, shortName, weight, result.quantized, hessian.layerWise, timer.seconds()));
                ctx.stored[ctx.layerPrefix + shortName] = std::move(result.stored);
                weight = result.quantized;
            }
            if (ctx.onStep)
                ctx.onStep(groups[g].front(), static_cast<double>(g + 1) / static_cast<double>(groups.size()), {});
        }
    }

private:
    GptqOptions m_options;
    HessianProvider m_hessians;
};

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
        {.key = "block_size",
         .type = OptionType::Integer,
         .defaultValue = std::int64_t(128),
         .minimum = 1,
         .maximum = 65536,
         .unit = "columns",
         .help = "Columns per lazy-update block",
         .label = "Block size"},
        {.key = "percdamp",
         .type = OptionType::Number,
         .defaultValue = 0.01,
         .minimum = 0.0,
         .maximum = 1.0,
         .minimumExclusive = true,
         .help = "Damping added to the Hessian diagonal, as a fraction of its mean",
         .label = "Damping (percdamp)"},
        {.key = "act_order",
         .type = OptionType::Boolean,
         .defaultValue = false,
         .help = "Quantize columns by decreasing Hessian diagonal",
         .label = "act-order"},
    };
    for (OptionSpec& spec : hessianSourceOptionSpecs())
        method.options.push_back(std::move(spec));
    method.capabilities.modelStage = true; // one-shot OAC Hessians come from the whole FP model
    method.nameSuffix = [](const MethodOptions& options) {
        std::string suffix = hessianSourceSuffix(options);
        if (options.boolean("act_order"))
            suffix += (suffix.empty() ? "" : " ") + std::string("act-order");
        return suffix;
    };
    method.create = [](const RunConfig& config) {
        return std::make_unique<GptqMethod>(gptqOptions(config.options), hessianSourceOptions(config.options));
    };
    return method;
}

} // namespace core
