#include "model/decoder_model.h"

#include "model/weight_layout.h"
#include "util/error.h"

namespace core {

DecoderModel::DecoderModel(const std::string& modelDir, ModelLoadOptions options)
    : m_directory(modelDir), m_options(options), m_config(loadModelConfig(modelDir)), m_checkpoint(modelDir),
      m_layout(m_config, m_checkpoint, modelDir)
{
    m_blocks.resize(static_cast<std::size_t>(m_config.numLayers));
}

std::string DecoderModel::tensorName(const std::string& canonical) const
{
    return m_layout.storedName(canonical);
}

BlockWeights DecoderModel::loadBlock(std::int64_t index) const
{
    BlockWeights weights;
    const std::string prefix = blockPrefix(m_config, index);
    for (const auto& spec : blockTensorSpecs(m_config))
        weights.tensors[spec.name] = loadFloat(m_checkpoint, tensorName(prefix + spec.name)).to(m_options.device);
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

void DecoderModel::replaceGlobals(GlobalWeights weights)
{
    m_globals = std::move(weights);
}

const GlobalWeights& DecoderModel::globals() const
{
    if (m_globals)
        return *m_globals;
    const GlobalNames names = globalNames(m_config);
    auto load = [&](const std::string& name) {
        return name.empty() ? torch::Tensor() : loadFloat(m_checkpoint, tensorName(name)).to(m_options.device);
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

torch::Tensor DecoderModel::embed(const torch::Tensor& ids, const torch::Tensor& positions) const
{
    return embedTokens(m_config, globals(), ids.to(m_options.device), positions);
}

torch::Tensor DecoderModel::runBlock(std::int64_t index, const torch::Tensor& hidden, const AttentionContext& attention,
                                     const ForwardHooks* hooks) const
{
    return decoderBlock(m_config, block(index), hidden, attention, blockPrefix(m_config, index), hooks);
}

torch::Tensor DecoderModel::logits(const torch::Tensor& hidden) const
{
    return outputLogits(m_config, globals(), hidden);
}

torch::Tensor DecoderModel::forward(const torch::Tensor& ids, const ForwardHooks* hooks) const
{
    const AttentionContext attention(m_config, ids.size(1), m_options.device);
    torch::Tensor hidden = embed(ids);
    for (std::int64_t i = 0; i < m_config.numLayers; ++i)
        hidden = runBlock(i, hidden, attention, hooks);
    return logits(hidden);
}

} // namespace core
