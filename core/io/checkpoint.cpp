#include "io/checkpoint.h"

#include "util/error.h"
#include "util/strict_json.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace core {

Checkpoint::Checkpoint(const std::string& modelDir) : m_directory(modelDir)
{
    namespace fs = std::filesystem;
    const fs::path dir(modelDir);
    const fs::path single = dir / "model.safetensors";
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index)) {
        const nlohmann::json json = parseStrictJson(readTextFile(index.string()), index.string());
        if (!json.contains("weight_map") || !json["weight_map"].is_object())
            throw Error(index.string() + ": missing key 'weight_map'");
        std::map<std::string, const SafetensorsFile*> byShardName;
        for (const auto& [tensorName, shardValue] : json["weight_map"].items()) {
            if (!shardValue.is_string())
                throw Error(index.string() + ": weight_map entry for " + tensorName + " is not a file name");
            const std::string shardName = shardValue.get<std::string>();
            // Shards are files beside the index: a path would read whatever it names (another
            // model, a device file), so anything but a plain file name is refused.
            if (shardName.empty() || shardName == "." || shardName == ".." ||
                shardName.find('/') != std::string::npos || shardName.find('\0') != std::string::npos)
                throw Error(index.string() + ": weight_map entry for " + tensorName + " ('" + shardName +
                            "') is not a file name in the model directory");
            auto it = byShardName.find(shardName);
            if (it == byShardName.end()) {
                const fs::path shardPath = dir / shardName;
                if (!fs::exists(shardPath))
                    throw Error(index.string() + ": shard " + shardName + " (for " + tensorName + ") is missing");
                m_shards.push_back(std::make_unique<SafetensorsFile>(shardPath.string()));
                it = byShardName.emplace(shardName, m_shards.back().get()).first;
            }
            if (!it->second->contains(tensorName))
                throw Error(index.string() + ": tensor " + tensorName + " is not in shard " + shardName);
            m_owner[tensorName] = it->second;
        }
        // Every tensor in exactly one shard: with two copies, which one loads would be an accident.
        std::map<std::string, std::string> shardOfTensor;
        for (const auto& [shardName, shard] : byShardName)
            for (const std::string& name : shard->names())
                if (const auto [at, added] = shardOfTensor.emplace(name, shardName); !added)
                    throw Error(index.string() + ": tensor " + name + " is stored in two shards, " + at->second +
                                " and " + shardName);
    } else if (fs::exists(single)) {
        m_shards.push_back(std::make_unique<SafetensorsFile>(single.string()));
        for (const auto& name : m_shards.back()->names())
            m_owner[name] = m_shards.back().get();
    } else {
        throw Error(modelDir + ": no model.safetensors or model.safetensors.index.json");
    }
}

const TensorInfo& Checkpoint::info(const std::string& name) const
{
    auto it = m_owner.find(name);
    if (it == m_owner.end())
        throw Error(m_directory + ": checkpoint has no tensor " + name);
    return it->second->info(name);
}

const SafetensorsFile& Checkpoint::shardOf(const std::string& name) const
{
    auto it = m_owner.find(name);
    if (it == m_owner.end())
        throw Error(m_directory + ": checkpoint has no tensor " + name);
    return *it->second;
}

std::vector<std::string> Checkpoint::names() const
{
    std::vector<std::string> result;
    for (const auto& [name, owner] : m_owner)
        result.push_back(name);
    return result;
}

StorageType Checkpoint::dominantType() const
{
    std::map<StorageType, std::int64_t> elements;
    for (const auto& [name, owner] : m_owner)
        elements[owner->info(name).type] += owner->info(name).numel();
    StorageType best = StorageType::F32;
    std::int64_t bestCount = -1;
    for (const auto& [type, count] : elements)
        if (count > bestCount) {
            best = type;
            bestCount = count;
        }
    return best;
}

} // namespace core
