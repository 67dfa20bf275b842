#include "jobs/model_info.h"

#include "io/checkpoint.h"
#include "io/model_config.h"
#include "io/tokenizer.h"
#include "model/checkpoint_layout.h"
#include "model/weight_layout.h"
#include "util/error.h"

namespace core {

ModelInfo inspectModel(const std::string& modelDir)
{
    // Headers only: the config checked against the tensors' shapes, no weight data read.
    const ModelConfig c = loadModelConfig(modelDir);
    const Checkpoint checkpoint(modelDir);
    [[maybe_unused]] const CheckpointLayout layout(c, checkpoint, modelDir);
    ModelInfo info;
    info.directory = modelDir;
    info.family = familyName(c.family);
    info.hiddenSize = c.hiddenSize;
    info.intermediateSize = c.intermediateSize;
    info.numLayers = c.numLayers;
    info.numHeads = c.numHeads;
    info.numKvHeads = c.numKvHeads;
    info.headDim = c.headDim;
    info.vocabSize = c.vocabSize;
    info.maxPositions = c.maxPositions;
    info.tiedEmbeddings = c.tieWordEmbeddings;
    info.storageType = storageTypeName(checkpoint.dominantType());
    info.shardCount = static_cast<std::int64_t>(checkpoint.shardCount());

    info.parameterCount = parameterCount(c);

    for (std::int64_t i = 0; i < c.numLayers; ++i)
        for (const auto& name : linearShortNames(c.family))
            info.linearNames.push_back(blockPrefix(c, i) + name);
    if (!c.tieWordEmbeddings)
        info.linearNames.push_back("lm_head");

    try {
        const auto tokenizer = loadTokenizer(modelDir);
        info.tokenizerKind = tokenizer->kind();
        if (tokenizer->vocabSize() > c.vocabSize)
            info.warnings.push_back("tokenizer has " + std::to_string(tokenizer->vocabSize()) +
                                    " tokens but the model's vocab_size is " + std::to_string(c.vocabSize));
    } catch (const Error& e) {
        info.warnings.push_back(e.what());
    }
    return info;
}

std::vector<std::int64_t> tokenizeText(const std::string& modelDir, const std::string& text, bool addBos)
{
    const ModelConfig config = loadModelConfig(modelDir);
    const auto tokenizer = loadTokenizer(modelDir);
    return addBos ? encodeWithBos(*tokenizer, text, config.bosTokenId) : tokenizer->encode(text);
}

} // namespace core
