#include "calib/channel_statistics.h"

#include "util/batches.h"

namespace core {

std::map<std::string, ChannelStatistics> fpLinearInputStatistics(const ModelContext& model)
{
    torch::NoGradGuard noGrad;
    std::map<std::string, ChannelStatistics> statistics;
    std::map<std::string, torch::Tensor> absSums; // float64: the mean runs over up to millions of tokens
    std::int64_t tokens = 0;
    const ForwardHooks observer =
        observing([&](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
            const torch::Tensor magnitude = input.reshape({-1, input.size(-1)}).abs();
            const torch::Tensor max = std::get<0>(magnitude.max(0));
            const torch::Tensor sum = magnitude.sum(0, /*keepdim=*/false, torch::kFloat64);
            ChannelStatistics& slot = statistics[layer];
            slot.absMax = slot.absMax.defined() ? torch::maximum(slot.absMax, max) : max;
            torch::Tensor& total = absSums[layer];
            total = total.defined() ? total + sum : sum;
        });
    const torch::Tensor& ids = model.calibrationIds();
    const std::int64_t samples = ids.size(0);
    forEachBatch(samples, model.batchSize(), model.cancel(), [&](std::int64_t first, std::int64_t count) {
        const torch::Tensor batch = ids.narrow(0, first, count);
        model.runBlocks(0, model.config().numLayers, model.model().embed(batch), &observer, false);
        tokens += batch.numel();
        if (model.onStep)
            model.onStep("channel statistics", static_cast<double>(first + count) / static_cast<double>(samples), {});
    });
    for (auto& [layer, slot] : statistics)
        slot.absMean = (absSums.at(layer) / static_cast<double>(tokens)).to(torch::kFloat32);
    return statistics;
}

} // namespace core
