#include "gui/run_layers.h"

#include "store/catalog.h"

namespace app {

RunLayerMetrics readRunLayerMetrics(const core::Catalog& catalog, std::int64_t runId)
{
    RunLayerMetrics metrics;
    for (const auto& m : catalog.layerMetrics(runId)) {
        auto& layer = metrics.values[m.layer];
        if (layer.empty())
            metrics.order.push_back(m.layer); // the catalog lists layers as the job ran them
        layer[m.metric] = m.value;
    }
    return metrics;
}

bool isBlockName(const std::string& layer)
{
    const auto at = layer.find("layers.");
    return at != std::string::npos && layer.find('.', at + 7) == std::string::npos;
}

std::string blockOfLayer(const std::string& layer)
{
    return layer.substr(0, layer.find('.', layer.find("layers.") + 7));
}

QString shortLayerLabel(const std::string& layer)
{
    const auto at = layer.find("layers.");
    std::string label = at == std::string::npos ? layer : layer.substr(at + 7);
    for (const char* part : {"self_attn.", "mlp."})
        if (const auto p = label.find(part); p != std::string::npos)
            label.erase(p, std::string(part).size());
    return QString::fromStdString(label);
}

} // namespace app
