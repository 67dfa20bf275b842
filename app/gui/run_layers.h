#pragma once
// A run's layers as the GUI's views show them: the per-layer metrics of the catalog in the
// order the job ran the layers (q, k, v, o, gate, up, down, block by block), and the layer
// names' short forms for tick labels. One reading for the inspector, the compare view and the
// running-calibration dock, so that they all list layers alike.

#include <QString>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace core {
class Catalog;
}

namespace app {

struct RunLayerMetrics {
    std::vector<std::string> order;                              ///< layers as the job ran them
    std::map<std::string, std::map<std::string, double>> values; ///< layer → metric → value
};

/// Reads run `runId`'s per-layer metrics (throws core::Error as the catalog does).
RunLayerMetrics readRunLayerMetrics(const core::Catalog& catalog, std::int64_t runId);

/// "model.layers.3" is a block; "model.layers.3.mlp.down_proj" a Linear inside it.
bool isBlockName(const std::string& layer);
/// "model.layers.3.mlp.down_proj" → "model.layers.3".
std::string blockOfLayer(const std::string& layer);
/// "model.layers.3.mlp.down_proj" → "3.down_proj": short enough for a tick label.
QString shortLayerLabel(const std::string& layer);

} // namespace app
