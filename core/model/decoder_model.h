#pragma once
// A llama/opt decoder backed by a memory-mapped HF checkpoint. Weights are read
// lazily, one block at a time, upcast to float32 and placed on the model's device.

#include "io/model_config.h"
#include "io/tensor_io.h"
#include "model/checkpoint_layout.h"
#include "model/decoder_forward.h"

#include <optional>
#include <string>
#include <vector>

namespace core {

struct ModelLoadOptions {
    torch::Device device = torch::kCPU;
    /// Keep every materialized block in memory (fast repeated passes). Turn off
    /// for models whose float32 weights do not fit in RAM: blocks are then re-read per pass.
    bool keepResident = true;
};

/// Not thread-safe: use one DecoderModel from one thread at a time.
class DecoderModel {
public:
    /// Reads config.json and the checkpoint headers, and checks every tensor the
    /// config implies is present with the right shape. Throws core::Error naming
    /// the file, key or tensor at fault. No weight data is read yet.
    explicit DecoderModel(const std::string& modelDir, ModelLoadOptions options = {});

    const ModelConfig& config() const { return m_config; }
    const std::string& directory() const { return m_directory; }
    torch::Device device() const { return m_options.device; }
    const Checkpoint& checkpoint() const { return m_checkpoint; }
    std::int64_t numBlocks() const { return m_config.numLayers; }

    /// Weights of block `index` (float32, on device). Throws core::Error for NaN/Inf, naming the tensor.
    /// Without keepResident the reference is valid only until the next call.
    const BlockWeights& block(std::int64_t index) const;
    const GlobalWeights& globals() const;
    /// Uses `weights` for block `index` from now on (e.g. calibrated weights for
    /// evaluation). Throws core::Error for an index out of range.
    void replaceBlock(std::int64_t index, BlockWeights weights);
    /// Uses `weights` for the embedding, final norm and head from now on (a method's global
    /// transform). Keep lmHead the same tensor as embedTokens for a model with a tied head.
    void replaceGlobals(GlobalWeights weights);

    /// `positions` [B, T]: a packed AttentionContext's (OPT's learned positions read them).
    torch::Tensor embed(const torch::Tensor& ids, const torch::Tensor& positions = {}) const;
    torch::Tensor runBlock(std::int64_t index, const torch::Tensor& hidden, const AttentionContext& attention,
                           const ForwardHooks* hooks = nullptr) const;
    torch::Tensor logits(const torch::Tensor& hidden) const;
    /// Full forward pass: ids [B, T] → logits [B, T, V].
    torch::Tensor forward(const torch::Tensor& ids, const ForwardHooks* hooks = nullptr) const;

private:
    BlockWeights loadBlock(std::int64_t index) const;
    std::string tensorName(const std::string& canonical) const;

    std::string m_directory;
    ModelLoadOptions m_options;
    ModelConfig m_config;
    Checkpoint m_checkpoint;
    CheckpointLayout m_layout;
    mutable std::vector<std::optional<BlockWeights>> m_blocks;
    mutable std::optional<BlockWeights> m_transientBlock;
    mutable std::optional<GlobalWeights> m_globals;
};

} // namespace core
