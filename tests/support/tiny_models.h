#pragma once
// Test fixtures: tiny random llama/opt checkpoints and tokenizers written to a
// directory in the Hugging Face layout, so the real loading code is exercised.

#include "io/model_config.h"
#include "io/tensor_io.h"

#include <torch/torch.h>

#include <map>
#include <string>

namespace testsupport {

struct TinyModelSpec {
    core::ModelFamily family = core::ModelFamily::Llama;
    std::int64_t hidden = 48;
    std::int64_t intermediate = 80;
    std::int64_t layers = 2;
    std::int64_t heads = 6;
    std::int64_t kvHeads = 2; ///< LLaMA only
    std::int64_t vocab = 97;
    std::int64_t maxPositions = 64;
    bool tied = false;
    bool bias = false; ///< LLaMA attention_bias (OPT always has biases)
    core::StorageType storage = core::StorageType::F32;
    int shards = 1;
    std::uint64_t seed = 0;
    double weightScale = 0.2;
};

/// config.json text for `spec`.
std::string tinyConfigJson(const TinyModelSpec& spec);

/// Writes config.json and the checkpoint (sharded when spec.shards > 1). Returns
/// every tensor as float32 exactly as stored (after bf16/f16 rounding), by full name.
std::map<std::string, torch::Tensor> writeTinyModel(const std::string& dir, const TinyModelSpec& spec);

/// Byte-level BPE vocab.json + merges.txt: ids 0..3 are <s> <pad> </s> <unk>,
/// then the 256 byte symbols, then the merges "Ġ t", "h e", "Ġt he", "Ġ a".
/// Returns the vocabulary size (264).
std::int64_t writeByteLevelTokenizer(const std::string& dir);

/// Trains a sentencepiece BPE tokenizer.model of `vocabSize` pieces on `corpus`
/// (bos=1, eos=2, unk=0) into `dir`.
void writeSentencePieceTokenizer(const std::string& dir, const std::string& corpus, int vocabSize);

/// A few paragraphs of English for tokenizer training and perplexity tests.
std::string sampleEnglishText();

/// A fresh empty directory under the system temp dir.
std::string makeTempDir(const std::string& tag);

} // namespace testsupport
