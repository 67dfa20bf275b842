#include "io/safetensors.h"

#include "util/error.h"
#include "util/shape.h"
#include "util/strict_json.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace core {
namespace {

struct TypeEntry {
    StorageType type;
    const char* name;
    std::size_t size;
};

constexpr TypeEntry kTypes[] = {
    {StorageType::F32, "F32", 4},   {StorageType::F16, "F16", 2}, {StorageType::BF16, "BF16", 2},
    {StorageType::F64, "F64", 8},   {StorageType::I64, "I64", 8}, {StorageType::I32, "I32", 4},
    {StorageType::I16, "I16", 2},   {StorageType::I8, "I8", 1},   {StorageType::U8, "U8", 1},
    {StorageType::Bool, "BOOL", 1},
};

// A header larger than this is not a checkpoint; the reference implementation uses the same bound.
constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

StorageType parseStorageType(const std::string& name, const std::string& where)
{
    for (const auto& entry : kTypes)
        if (name == entry.name)
            return entry.type;
    throw Error(where + ": unknown dtype '" + name + "'");
}

} // namespace

std::string storageTypeName(StorageType type)
{
    for (const auto& entry : kTypes)
        if (entry.type == type)
            return entry.name;
    return "?";
}

std::size_t storageTypeSize(StorageType type)
{
    for (const auto& entry : kTypes)
        if (entry.type == type)
            return entry.size;
    return 0;
}

std::int64_t TensorInfo::numel() const
{
    return shapeNumel(shape);
}

SafetensorsFile::SafetensorsFile(const std::string& path) : m_file(std::make_unique<MappedFile>(path))
{
    const std::size_t fileSize = m_file->size();
    if (fileSize < 8)
        throw Error(path + ": truncated safetensors file (" + std::to_string(fileSize) + " bytes, no header length)");
    std::uint64_t headerLength = 0;
    std::memcpy(&headerLength, m_file->data(), 8); // little-endian on every platform we build for
    if (headerLength > fileSize - 8)
        throw Error(path + ": corrupt safetensors header: header length " + std::to_string(headerLength) +
                    " is beyond the file size " + std::to_string(fileSize));
    if (headerLength > kMaxHeaderBytes)
        throw Error(path + ": corrupt safetensors header: header length " + std::to_string(headerLength) +
                    " exceeds 100 MB");
    m_dataStart = 8 + headerLength;
    const std::uint64_t dataSize = fileSize - m_dataStart;

    const nlohmann::json header =
        parseStrictJson(std::string(reinterpret_cast<const char*>(m_file->data()) + 8, headerLength),
                        path + ": corrupt safetensors header");
    if (!header.is_object())
        throw Error(path + ": corrupt safetensors header: not a JSON object");

    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (entry.is_object())
                for (const auto& [key, value] : entry.items())
                    if (value.is_string())
                        m_metadata[key] = value.get<std::string>();
            continue;
        }
        const std::string where = path + ": tensor " + name;
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
            !entry.contains("data_offsets"))
            throw Error(where + ": header entry needs dtype, shape and data_offsets");
        TensorInfo info;
        info.name = name;
        try {
            info.type = parseStorageType(entry.at("dtype").get<std::string>(), where);
            info.shape = entry.at("shape").get<std::vector<std::int64_t>>();
            const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
            if (offsets.size() != 2)
                throw Error(where + ": data_offsets must have two entries");
            info.begin = offsets[0];
            info.end = offsets[1];
        } catch (const nlohmann::json::exception& e) {
            throw Error(where + ": malformed header entry (" + e.what() + ")");
        }
        for (auto dim : info.shape)
            if (dim < 0)
                throw Error(where + ": negative dimension in shape");
        if (info.end < info.begin)
            throw Error(where + ": data offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                        "] are reversed (the end comes before the begin)");
        if (info.end > dataSize)
            throw Error(where + ": data offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                        ") out of range (data section has " + std::to_string(dataSize) + " bytes; file truncated?)");
        const std::uint64_t expected = static_cast<std::uint64_t>(info.numel()) * storageTypeSize(info.type);
        if (info.end - info.begin != expected)
            throw Error(where + ": data offsets span " + std::to_string(info.end - info.begin) +
                        " bytes but dtype and shape need " + std::to_string(expected));
        m_tensors.emplace(name, std::move(info));
    }

    // Overlapping byte ranges mean a corrupt or malicious header.
    std::vector<const TensorInfo*> byOffset;
    for (const auto& [name, info] : m_tensors)
        byOffset.push_back(&info);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < byOffset.size(); ++i)
        if (byOffset[i]->begin < byOffset[i - 1]->end)
            throw Error(path + ": corrupt safetensors header: tensors " + byOffset[i - 1]->name + " and " +
                        byOffset[i]->name + " overlap");
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const
{
    auto it = m_tensors.find(name);
    if (it == m_tensors.end())
        throw Error(path() + ": no tensor named " + name);
    return it->second;
}

std::vector<std::string> SafetensorsFile::names() const
{
    std::vector<std::string> result;
    result.reserve(m_tensors.size());
    for (const auto& [name, info] : m_tensors)
        result.push_back(name);
    return result;
}

} // namespace core
