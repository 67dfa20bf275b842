#pragma once
// Safetensors ↔ torch: loading tensors of a mapped file or checkpoint as float32, writing
// tensors to a file.

#include "io/checkpoint.h"
#include "io/safetensors.h"

#include <torch/torch.h>

#include <map>
#include <string>

namespace core {

/// Copies one tensor out of the map and converts it to float32 (F32/F16/BF16 only). Throws
/// core::Error naming the file and tensor when it is absent, of another dtype, or holds NaN/Inf.
torch::Tensor loadFloat(const SafetensorsFile& file, const std::string& name);

/// The same for the shard of a checkpoint that holds `name`.
torch::Tensor loadFloat(const Checkpoint& checkpoint, const std::string& name);

/// Writes tensors (converted to `type`, one of F32/F16/BF16) to a safetensors
/// file, atomically. Tensor order in the data section follows the map's order.
void writeSafetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      StorageType type = StorageType::F32, const std::map<std::string, std::string>& metadata = {});

/// Throws core::Error("<what>: tensor <name> contains NaN or Inf") if any element is not finite.
void requireFinite(const torch::Tensor& tensor, const std::string& name, const std::string& what);

} // namespace core
