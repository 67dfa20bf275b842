#include "io/tensor_io.h"

#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <cstring>

namespace core {
namespace {

torch::ScalarType scalarTypeOf(StorageType type)
{
    switch (type) {
    case StorageType::F32:
        return torch::kFloat32;
    case StorageType::F16:
        return torch::kFloat16;
    case StorageType::BF16:
        return torch::kBFloat16;
    default:
        break;
    }
    throw Error("storage type " + storageTypeName(type) + " cannot hold model weights");
}

} // namespace

torch::Tensor loadFloat(const SafetensorsFile& file, const std::string& name)
{
    const TensorInfo& tensorInfo = file.info(name);
    torch::ScalarType stored;
    try {
        stored = scalarTypeOf(tensorInfo.type);
    } catch (const Error&) {
        throw Error(file.path() + ": tensor " + name + " has dtype " + storageTypeName(tensorInfo.type) +
                    "; only F32, F16 and BF16 weights are supported");
    }
    // Copy first: the data section is not guaranteed to be aligned for the element type.
    torch::Tensor raw = torch::empty(tensorInfo.shape, torch::TensorOptions().dtype(stored));
    std::memcpy(raw.data_ptr(), file.tensorBytes(tensorInfo), tensorInfo.end - tensorInfo.begin);
    torch::Tensor result = stored == torch::kFloat32 ? raw : raw.to(torch::kFloat32);
    requireFinite(result, name, file.path());
    return result;
}

torch::Tensor loadFloat(const Checkpoint& checkpoint, const std::string& name)
{
    return loadFloat(checkpoint.shardOf(name), name);
}

void requireFinite(const torch::Tensor& tensor, const std::string& name, const std::string& what)
{
    if (tensor.numel() > 0 && !torch::isfinite(tensor).all().item<bool>())
        throw Error(what + ": tensor " + name + " contains NaN or Inf values");
}

void writeSafetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors, StorageType type,
                      const std::map<std::string, std::string>& metadata)
{
    const torch::ScalarType target = scalarTypeOf(type);
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::vector<torch::Tensor> converted;
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {
        torch::Tensor data = tensor.detach().to(torch::kCPU).to(target).contiguous();
        const std::uint64_t bytes = static_cast<std::uint64_t>(data.numel()) * data.element_size();
        header[name] = {{"dtype", storageTypeName(type)},
                        {"shape", data.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        converted.push_back(std::move(data));
    }
    std::string headerText = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
    headerText.append((8 - headerText.size() % 8) % 8, ' ');
    const std::uint64_t headerLength = headerText.size();

    std::string contents;
    contents.reserve(8 + headerLength + offset);
    contents.append(reinterpret_cast<const char*>(&headerLength), 8);
    contents += headerText;
    for (const auto& data : converted)
        contents.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
    writeFileAtomically(path, contents);
}

} // namespace core
