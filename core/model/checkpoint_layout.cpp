#include "model/checkpoint_layout.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <algorithm>

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
        const StorageType type = checkpoint.info(stored).type;
        if (type != StorageType::F32 && type != StorageType::F16 && type != StorageType::BF16)
            throw Error(modelDir + ": tensor " + stored + " has dtype " + storageTypeName(type) +
                        "; only F32, F16 and BF16 weights are supported");
    };
    for (const auto& spec : globalTensorSpecs(config))
        check(spec.name, spec.shape);
    for (std::int64_t i = 0; i < config.numLayers; ++i)
        for (const auto& spec : blockTensorSpecs(config))
            check(blockPrefix(config, i) + spec.name, spec.shape);

    // A checkpoint with more blocks than config.json names would otherwise run on silently as a
    // truncated model.
    const std::string blocks = storedName(blockPrefix(config, 0).substr(0, blockPrefix(config, 0).size() - 2));
    std::int64_t storedBlocks = 0;
    for (const std::string& name : checkpoint.names()) {
        if (name.rfind(blocks, 0) != 0)
            continue;
        const std::size_t dot = name.find('.', blocks.size());
        try {
            storedBlocks =
                std::max<std::int64_t>(storedBlocks, std::stoll(name.substr(blocks.size(), dot - blocks.size())) + 1);
        } catch (const std::exception&) {
        }
    }
    if (storedBlocks != config.numLayers)
        throw Error(modelDir + ": the checkpoint holds " + std::to_string(storedBlocks) +
                    " blocks but config.json says num_hidden_layers = " + std::to_string(config.numLayers));
}

std::string CheckpointLayout::storedName(const std::string& canonical) const
{
    if (!m_prefixToStrip.empty() && canonical.rfind(m_prefixToStrip, 0) == 0)
        return canonical.substr(m_prefixToStrip.size());
    return canonical;
}

} // namespace core
