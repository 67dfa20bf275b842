#pragma once
// Which stored tensor each of a model's weights is, checked against the checkpoint's headers.
// Torch-free: reads headers only, so `quantscope info` runs without LibTorch.

#include "io/checkpoint.h"
#include "io/model_config.h"

#include <string>

namespace core {

class CheckpointLayout {
public:
    /// Checks that every tensor `config` implies is in `checkpoint` with the right shape.
    /// Throws core::Error naming `modelDir` and the tensor at fault.
    CheckpointLayout(const ModelConfig& config, const Checkpoint& checkpoint, const std::string& modelDir);

    /// The stored name of a canonical HF tensor name (some OPT checkpoints omit the leading "model.").
    std::string storedName(const std::string& canonical) const;

private:
    std::string m_prefixToStrip;
};

} // namespace core
