// Round-to-nearest (METHODS.md §1): every Linear on its min/max grid, no data needed. The
// calibration inputs only serve the error metric and the saliency diagnostics.
#include "calib/calibration_method.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "model/weight_layout.h"
#include "util/stopwatch.h"

namespace core {
namespace {

class RtnMethod : public CalibrationMethod {
public:
    std::string name() const override { return "rtn"; }
    void calibrateBlock(BlockCalibrationContext& ctx) override
    {
        const std::vector<std::string> all = linearShortNames(ctx.config.family);
        const auto hessians = collectHessians(ctx, all);
        for (std::size_t i = 0; i < all.size(); ++i) {
            ctx.cancel.throwIfCancelled();
            const Stopwatch timer;
            torch::Tensor& weight = ctx.weights.tensors.at(all[i] + ".weight");
            QuantizedLinear stored = quantizeRtnStored(weight, ctx.spec);
            const torch::Tensor quantized = stored.dequantize();
            ctx.layers.push_back(measureLayer(ctx, all[i], weight, quantized, hessians.at(all[i]), timer.seconds()));
            ctx.stored[ctx.layerPrefix + all[i]] = std::move(stored);
            ctx.hessians[all[i]] = hessians.at(all[i]);
            weight = quantized;
            if (ctx.onStep)
                ctx.onStep(all[i], static_cast<double>(i + 1) / static_cast<double>(all.size()), {});
        }
    }
};

} // namespace

MethodDescriptor rtnMethod()
{
    MethodDescriptor method;
    method.name = "rtn";
    method.description = "Round-to-nearest on each group's min/max grid; no calibration data needed";
    method.reference = "the baseline of every paper; METHODS.md §1";
    method.create = [](const RunConfig&) { return std::make_unique<RtnMethod>(); };
    return method;
}

} // namespace core
