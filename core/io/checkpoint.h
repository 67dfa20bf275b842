#pragma once
// The weights of one HF model directory: either a single model.safetensors or a
// sharded checkpoint described by model.safetensors.index.json. Torch-free (headers
// and bytes); loading a tensor: io/tensor_io.h.

#include "io/safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace core {

class Checkpoint {
public:
    /// Opens every shard of the checkpoint in `modelDir` (headers only).
    /// Throws core::Error naming the directory or file when no checkpoint is
    /// there, the index is malformed, or a shard it names is missing or corrupt.
    explicit Checkpoint(const std::string& modelDir);

    bool contains(const std::string& name) const { return m_owner.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const;
    /// The shard file that holds `name`; throws core::Error naming it when absent.
    const SafetensorsFile& shardOf(const std::string& name) const;
    std::vector<std::string> names() const;
    /// The dtype most tensors are stored in (for display).
    StorageType dominantType() const;
    const std::string& directory() const { return m_directory; }
    std::size_t shardCount() const { return m_shards.size(); }

private:
    std::string m_directory;
    std::vector<std::unique_ptr<SafetensorsFile>> m_shards;
    std::map<std::string, const SafetensorsFile*> m_owner;
};

} // namespace core
