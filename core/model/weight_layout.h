#pragma once
// Where each weight of a llama/opt decoder lives in a Hugging Face checkpoint,
// and which shape config.json implies for it. Layer names everywhere in
// Quantscope are these tensor names without ".weight".

#include "io/model_config.h"
#include "util/shape.h"

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct TensorSpec {
    std::string name;                 ///< short name inside a block ("self_attn.q_proj.weight") or full global name
    std::vector<std::int64_t> shape;
};

/// "model.layers.3." (LLaMA) or "model.decoder.layers.3." (OPT).
std::string blockPrefix(const ModelConfig& config, std::int64_t block);

/// Short names of a block's Linear layers in execution order (q, k, v, o, then the MLP).
std::vector<std::string> linearShortNames(ModelFamily family);

/// Every tensor of one block, with short names relative to blockPrefix().
std::vector<TensorSpec> blockTensorSpecs(const ModelConfig& config);

/// Embedding, positions (OPT), final norm and lm_head (absent when tied), with full names.
std::vector<TensorSpec> globalTensorSpecs(const ModelConfig& config);

/// Full names of the global tensors.
struct GlobalNames {
    std::string embedTokens;
    std::string embedPositions; ///< OPT only, empty for LLaMA
    std::string finalNormWeight;
    std::string finalNormBias;  ///< OPT only
    std::string lmHead;         ///< empty when tied to the embedding
};
GlobalNames globalNames(const ModelConfig& config);

/// HF OPT stores learned positions with an offset of 2 (OPTLearnedPositionalEmbedding).
constexpr std::int64_t kOptPositionOffset = 2;

std::string shapeToString(const std::vector<std::int64_t>& shape);

/// Parameters of the whole model that config.json describes (globals + every block).
std::int64_t parameterCount(const ModelConfig& config);

} // namespace core
