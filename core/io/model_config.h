#pragma once
// The subset of a Hugging Face config.json that the llama and opt decoders need.
// Torch-free so that the GUI can show it.

#include <cstdint>
#include <string>

namespace core {

enum class ModelFamily { Llama, Opt };

std::string familyName(ModelFamily family);

struct ModelConfig {
    ModelFamily family = ModelFamily::Llama;
    std::int64_t hiddenSize = 0;
    std::int64_t intermediateSize = 0; ///< LLaMA intermediate_size, OPT ffn_dim
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0; ///< == numHeads unless the model uses grouped-query attention
    std::int64_t headDim = 0;
    std::int64_t vocabSize = 0;
    std::int64_t maxPositions = 0;
    double normEps = 1e-6;       ///< rms_norm_eps (LLaMA) or 1e-5 (OPT LayerNorm)
    double ropeTheta = 10000.0;  ///< LLaMA only
    bool tieWordEmbeddings = false;
    bool linearBias = false;     ///< biases on every Linear (OPT enable_bias; LLaMA attention_bias)
    std::int64_t bosTokenId = 1;
    std::int64_t eosTokenId = 2;
};

/// Parses config.json text. `where` names the file in error messages.
/// Throws core::Error naming the key for missing, mistyped, out-of-range or
/// unsupported values (unknown model_type, rope_scaling, OPT post-LayerNorm, ...).
ModelConfig parseModelConfig(const std::string& jsonText, const std::string& where);

/// Reads `<modelDir>/config.json`; throws core::Error if it is missing or invalid.
ModelConfig loadModelConfig(const std::string& modelDir);

} // namespace core
