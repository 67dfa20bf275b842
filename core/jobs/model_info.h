#pragma once
// What `quantscope info` and the GUI's model picker show about a model directory. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct ModelInfo {
    std::string directory;
    std::string family; ///< "llama" or "opt"
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0;
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;
    std::int64_t headDim = 0;
    std::int64_t vocabSize = 0;
    std::int64_t maxPositions = 0;
    bool tiedEmbeddings = false;
    std::int64_t parameterCount = 0;
    std::string storageType; ///< dominant dtype on disk ("F32", "BF16", ...)
    std::int64_t shardCount = 0;
    std::string tokenizerKind;            ///< "sentencepiece", "gpt2-bpe", or "" when missing
    std::vector<std::string> linearNames; ///< every Linear layer, HF names without ".weight"
    std::vector<std::string> warnings;    ///< non-fatal problems (e.g. missing tokenizer)
};

/// Reads config.json, the checkpoint headers and the tokenizer of `modelDir`
/// (no weight data). Throws core::Error for anything that makes the model unusable.
ModelInfo inspectModel(const std::string& modelDir);

/// Token ids of `text` with the model's tokenizer; BOS prepended when `addBos`.
/// Throws core::Error when the tokenizer is missing or corrupt.
std::vector<std::int64_t> tokenizeText(const std::string& modelDir, const std::string& text, bool addBos = true);

} // namespace core
