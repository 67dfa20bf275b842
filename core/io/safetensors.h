#pragma once
// Safetensors checkpoints: a little-endian u64 header length, a JSON header
// {name: {dtype, shape, data_offsets}} and the raw tensor bytes.
// Format: https://github.com/huggingface/safetensors (README, "Format").

#include "util/mapped_file.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace core {

enum class StorageType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool };

/// Name as written in safetensors headers ("F32", "BF16", ...).
std::string storageTypeName(StorageType type);
std::size_t storageTypeSize(StorageType type);

struct TensorInfo {
    std::string name;
    StorageType type = StorageType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0; ///< byte offset of the data, relative to the data section
    std::uint64_t end = 0;
    std::int64_t numel() const;
};

/// One memory-mapped .safetensors file. The header is parsed and validated on
/// open (lengths, offsets, dtypes); tensor bytes are read only by load().
class SafetensorsFile {
public:
    /// Throws core::Error naming the file and the problem: header length beyond
    /// the file, malformed JSON, unknown dtype, offsets out of range or not
    /// matching the shape, overlapping tensors.
    explicit SafetensorsFile(const std::string& path);

    const std::string& path() const { return m_file->path(); }
    bool contains(const std::string& name) const { return m_tensors.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const;
    std::vector<std::string> names() const;
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }

    /// Copies one tensor out of the map and converts it to float32 (F32/F16/BF16
    /// only). Throws core::Error for other dtypes and for NaN/Inf values, naming the tensor.
    torch::Tensor loadFloat(const std::string& name) const;

private:
    std::unique_ptr<MappedFile> m_file;
    std::uint64_t m_dataStart = 0;
    std::map<std::string, TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
};

/// Writes tensors (converted to `type`, one of F32/F16/BF16) to a safetensors
/// file, atomically. Tensor order in the data section follows the map's order.
void writeSafetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      StorageType type = StorageType::F32,
                      const std::map<std::string, std::string>& metadata = {});

/// Throws core::Error("<what>: tensor <name> contains NaN or Inf") if any element is not finite.
void requireFinite(const torch::Tensor& tensor, const std::string& name, const std::string& what);

} // namespace core
