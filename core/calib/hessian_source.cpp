#include "calib/hessian_source.h"

#include "calib/output_adaptive_hessian.h"
#include "util/error.h"

#include <sstream>

namespace core {

std::vector<OptionSpec> hessianSourceOptionSpecs()
{
    return {
        {.key = "hessian",
         .type = OptionType::Choice,
         .defaultValue = std::string("xtx"),
         .help = "Hessian the updates and saliency use: xtx = layer-wise 2XXᵀ (GPTQ), oac = output-adaptive "
                 "(per-window gradients of the model's cross-entropy), blend = normalized oac + β·xtx",
         .label = "Hessian",
         .choices = {"xtx", "oac", "blend"}},
        {.key = "oac_schedule",
         .type = OptionType::Choice,
         .defaultValue = std::string("sequential"),
         .help = "oac/blend: sequential = each block's Hessian with the blocks before it quantized; one_shot = all "
                 "from the FP model in one pass (cheaper)",
         .label = "OAC schedule",
         .choices = {"sequential", "one_shot"}},
        {.key = "blend_beta",
         .type = OptionType::Number,
         .defaultValue = 1.0,
         .minimum = 0.0,
         .maximum = 1000.0,
         .help = "blend: weight of the normalized 2XXᵀ added to the normalized output-adaptive Hessian",
         .label = "Blend β"},
    };
}

HessianSourceOptions hessianSourceOptions(const MethodOptions& options)
{
    HessianSourceOptions source;
    const std::string& name = options.choice("hessian");
    source.source = name == "oac"     ? HessianSource::OutputAdaptive
                    : name == "blend" ? HessianSource::Blend
                                      : HessianSource::LayerWise;
    source.schedule = options.choice("oac_schedule") == "one_shot" ? OacSchedule::OneShot : OacSchedule::Sequential;
    source.blendBeta = options.number("blend_beta");
    return source;
}

std::string hessianSourceSuffix(const MethodOptions& options)
{
    const HessianSourceOptions source = hessianSourceOptions(options);
    if (source.source == HessianSource::LayerWise)
        return "";
    std::ostringstream out;
    if (source.source == HessianSource::Blend)
        out << "blend β=" << source.blendBeta;
    else
        out << "oac";
    if (source.schedule == OacSchedule::OneShot)
        out << " one-shot";
    return out.str();
}

void HessianProvider::prepareModel(ModelContext& model)
{
    if (!usesOutputAdaptive() || m_options.schedule != OacSchedule::OneShot)
        return;
    torch::Tensor embedded;
    {
        torch::NoGradGuard noGrad;
        embedded = model.model().embed(model.calibrationIds());
    }
    m_outputAdaptive = outputAdaptiveHessians(
        model, 0, model.config().numLayers, embedded, model.calibrationIds(), &model.streamHooks(),
        [&](std::int64_t done, std::int64_t total) {
            if (model.onStep)
                model.onStep("oac hessian (one-shot)", static_cast<double>(done) / static_cast<double>(total), {});
        });
}

void HessianProvider::beginBlock(BlockCalibrationContext& ctx)
{
    if (!usesOutputAdaptive() || m_options.schedule != OacSchedule::Sequential)
        return;
    if (ctx.model == nullptr)
        throw Error(ctx.layerPrefix + ": the output-adaptive Hessian needs the whole model (no model context)");
    const ForwardHooks hooks = streamHooksOf(ctx);
    m_outputAdaptive = outputAdaptiveHessians(
        *ctx.model, ctx.blockIndex, ctx.blockIndex + 1, ctx.inputs, ctx.model->calibrationIds(), &hooks,
        [&](std::int64_t done, std::int64_t total) {
            if (ctx.onStep)
                ctx.onStep("oac hessian", 0.5 * static_cast<double>(done) / static_cast<double>(total), {});
        });
}

std::map<std::string, GroupHessian> HessianProvider::forGroup(BlockCalibrationContext& ctx,
                                                              const std::vector<std::string>& shortNames)
{
    const auto layerWise = collectHessians(ctx, shortNames);
    std::map<std::string, GroupHessian> group;
    for (const auto& shortName : shortNames) {
        GroupHessian& h = group[shortName];
        h.layerWise = layerWise.at(shortName);
        ctx.hessians[shortName] = h.layerWise;
        if (!usesOutputAdaptive()) {
            h.quantizeWith = h.layerWise;
            continue;
        }
        const auto found = m_outputAdaptive.find(ctx.layerPrefix + shortName);
        if (found == m_outputAdaptive.end())
            throw Error(ctx.layerPrefix + shortName + ": no output-adaptive Hessian was computed (internal error)");
        const torch::Tensor outputAdaptive = found->second;
        m_outputAdaptive.erase(found); // each is used once; one-shot runs free them block by block
        ctx.outputAdaptiveHessians[shortName] = outputAdaptive;
        h.quantizeWith = m_options.source == HessianSource::Blend
                             ? blendedHessian(outputAdaptive, h.layerWise, m_options.blendBeta)
                             : outputAdaptive;
    }
    return group;
}

} // namespace core
