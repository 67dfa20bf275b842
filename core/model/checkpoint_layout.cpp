#include "model/checkpoint_layout.h"

#include "model/weight_layout.h"
#include "util/error.h"

namespace core {

CheckpointLayout::CheckpointLayout(const ModelConfig& config, const Checkpoint& checkpoint, const std::string& modelDir)
{
    const GlobalNames names = globalNames(config);
    if (!checkpoint.contains(names.embedTokens) && checkpoint.contains(names.embedTokens.substr(6)))
        m_prefixToStrip = "model.";

    auto check = [&](const std::string& canonical, const std::vector<std::int64_t>& shape) {
        const std::string stored = storedName(canonical);
        if (!checkpoint.contains(stored))
            throw Error(modelDir + ": checkpoint has no tensor " + stored + " (required by config.json)");
        const auto& actual = checkpoint.info(stored).shape;
        if (actual != shape)
            throw Error(modelDir + ": tensor " + stored + " has shape " + shapeToString(actual) +
                        " but config.json implies " + shapeToString(shape));
    };
    for (const auto& spec : globalTensorSpecs(config))
        check(spec.name, spec.shape);
    for (std::int64_t i = 0; i < config.numLayers; ++i)
        for (const auto& spec : blockTensorSpecs(config))
            check(blockPrefix(config, i) + spec.name, spec.shape);
}

std::string CheckpointLayout::storedName(const std::string& canonical) const
{
    if (!m_prefixToStrip.empty() && canonical.rfind(m_prefixToStrip, 0) == 0)
        return canonical.substr(m_prefixToStrip.size());
    return canonical;
}

} // namespace core
