#include "model/decoder_model.h"

#include "model/weight_layout.h"
#include "util/error.h"

namespace core {

DecoderModel::DecoderModel(const std::string& modelDir, ModelLoadOptions options)
    : m_directory(modelDir), m_options(options), m_config(loadModelConfig(modelDir)), m_checkpoint(modelDir)
{
    const GlobalNames names = globalNames(m_config);
    if (!m_checkpoint.contains(names.embedTokens) && m_checkpoint.contains(names.embedTokens.substr(6)))
        m_prefixToStrip = "model.";

    auto check = [&](const std::string& canonical, const std::vector<std::int64_t>& shape) {
        const std::string stored = tensorName(canonical);
        if (!m_checkpoint.contains(stored))
            throw Error(modelDir + ": checkpoint has no tensor " + stored + " (required by config.json)");
        const auto& actual = m_checkpoint.info(stored).shape;
        if (actual != shape)
            throw Error(modelDir + ": tensor " + stored + " has shape " + shapeToString(actual) +
                        " but config.json implies " + shapeToString(shape));
    };
    for (const auto& spec : globalTensorSpecs(m_config))
        check(spec.name, spec.shape);
    for (std::int64_t i = 0; i < m_config.numLayers; ++i)
        for (const auto& spec : blockTensorSpecs(m_config))
            check(blockPrefix(m_config, i) + spec.name, spec.shape);
    m_blocks.resize(static_cast<std::size_t>(m_config.numLayers));
}

std::string DecoderModel::tensorName(const std::string& canonical) const
{
    if (!m_prefixToStrip.empty() && canonical.rfind(m_prefixToStrip, 0) == 0)
        return canonical.substr(m_prefixToStrip.size());
    return canonical;
}

BlockWeights DecoderModel::loadBlock(std::int64_t index) const
{
    BlockWeights weights;
    const std::string prefix = blockPrefix(m_config, index);
    for (const auto& spec : blockTensorSpecs(m_config))
        weights.tensors[spec.name] = m_checkpoint.loadFloat(tensorName(prefix + spec.name)).to(m_options.device);
    return weights;
}

const BlockWeights& DecoderModel::block(std::int64_t index) const
{
    if (index < 0 || index >= m_config.numLayers)
        throw Error("block index " + std::to_string(index) + " out of range (model has " +
                    std::to_string(m_config.numLayers) + " blocks)");
    auto& slot = m_blocks[static_cast<std::size_t>(index)];
    if (slot)
        return *slot;
    if (m_options.keepResident) {
        slot = loadBlock(index);
        return *slot;
    }
    m_transientBlock = loadBlock(index);
    return *m_transientBlock;
}

void DecoderModel::replaceBlock(std::int64_t index, BlockWeights weights)
{
    if (index < 0 || index >= m_config.numLayers)
        throw Error("block index " + std::to_string(index) + " out of range (model has " +
                    std::to_string(m_config.numLayers) + " blocks)");
    m_blocks[static_cast<std::size_t>(index)] = std::move(weights);
}

const GlobalWeights& DecoderModel::globals() const
{
    if (m_globals)
        return *m_globals;
    const GlobalNames names = globalNames(m_config);
    auto load = [&](const std::string& name) {
        return name.empty() ? torch::Tensor() : m_checkpoint.loadFloat(tensorName(name)).to(m_options.device);
    };
    GlobalWeights weights;
    weights.embedTokens = load(names.embedTokens);
    weights.embedPositions = load(names.embedPositions);
    weights.finalNormWeight = load(names.finalNormWeight);
    weights.finalNormBias = load(names.finalNormBias);
    weights.lmHead = names.lmHead.empty() ? weights.embedTokens : load(names.lmHead);
    m_globals = std::move(weights);
    return *m_globals;
}

torch::Tensor DecoderModel::embed(const torch::Tensor& ids) const
{
    return embedTokens(m_config, globals(), ids.to(m_options.device));
}

torch::Tensor DecoderModel::runBlock(std::int64_t index, const torch::Tensor& hidden, const AttentionContext& attention,
                                     const LinearObserver* observer) const
{
    return decoderBlock(m_config, block(index), hidden, attention, blockPrefix(m_config, index), observer);
}

torch::Tensor DecoderModel::logits(const torch::Tensor& hidden) const
{
    return outputLogits(m_config, globals(), hidden);
}

torch::Tensor DecoderModel::forward(const torch::Tensor& ids, const LinearObserver* observer) const
{
    const AttentionContext attention(m_config, ids.size(1), m_options.device);
    torch::Tensor hidden = embed(ids);
    for (std::int64_t i = 0; i < m_config.numLayers; ++i)
        hidden = runBlock(i, hidden, attention, observer);
    return logits(hidden);
}

} // namespace core
