#include "jobs/block_metric_rows.h"

#include <cmath>

namespace core {

std::vector<LayerMetric> blockMetricRows(const std::vector<LayerMetrics>& layers, const std::string& blockName,
                                         std::int64_t blockIndex, const BlockLossCurve& curve)
{
    std::vector<LayerMetric> rows;
    for (const auto& layer : layers) {
        rows.push_back({layer.name, layer.block, "rel_error", layer.relativeError});
        rows.push_back({layer.name, layer.block, "sqnr_db", layer.sqnrDb});
        rows.push_back({layer.name, layer.block, "seconds", layer.seconds});
        if (!std::isnan(layer.effectiveBits))
            rows.push_back({layer.name, layer.block, "effective_bits", layer.effectiveBits});
    }
    if (!curve.empty()) {
        // First and last epoch means: the catalog can sort runs by how far training got.
        const std::size_t total = curve.terms.size();
        rows.push_back({blockName, blockIndex, "loss_first_epoch", curve.epochMean(0, total)});
        rows.push_back({blockName, blockIndex, "loss_last_epoch", curve.epochMean(-1, total)});
        for (std::size_t t = 0; t < total; ++t)
            rows.push_back({blockName, blockIndex, "loss_last_epoch_" + curve.terms[t], curve.epochMean(-1, t)});
    }
    return rows;
}

} // namespace core
