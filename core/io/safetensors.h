#pragma once
// Safetensors checkpoints: a little-endian u64 header length, a JSON header
// {name: {dtype, shape, data_offsets}} and the raw tensor bytes.
// Format: https://github.com/huggingface/safetensors (README, "Format").
// Torch-free: the header index and raw bytes. Reading tensors into torch and writing
// files: io/tensor_io.h.

#include "util/mapped_file.h"

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

    /// The first byte of a tensor's data in the mapped file (valid while this object lives;
    /// not aligned for the element type: copy before reading elements).
    const std::uint8_t* tensorBytes(const TensorInfo& tensor) const
    {
        return m_file->data() + m_dataStart + tensor.begin;
    }

private:
    std::unique_ptr<MappedFile> m_file;
    std::uint64_t m_dataStart = 0;
    std::map<std::string, TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
};

} // namespace core
