// Fuzzes the sharded-checkpoint index (model.safetensors.index.json): the input is the index;
// the directory also holds two valid shards, so that the fuzzer can reach the tensor-to-shard
// checks (a tensor missing from its shard, in two shards, a shard that is not a file name).

#include "fuzz_input_file.h"

#include "io/checkpoint.h"
#include "util/error.h"

#include <cstdlib>
#include <filesystem>

namespace {

// A valid safetensors file: u64 little-endian header length, the JSON header, the data.
std::string shardBytes(const std::string& tensorA, const std::string& tensorB)
{
    const std::string header = "{\"" + tensorA + "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"" +
                               tensorB + "\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]}}";
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i)
        bytes[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return bytes + header + std::string(12, '\x3f');
}

void writeShardsOnce()
{
    static const bool written = [] {
        fuzz::writeInput("model-00001-of-00002.safetensors", shardBytes("embed.weight", "norm.weight"));
        fuzz::writeInput("model-00002-of-00002.safetensors", shardBytes("head.weight", "norm.weight"));
        return true;
    }();
    (void)written;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    writeShardsOnce();
    fuzz::writeInput("model.safetensors.index.json", data, size);
    try {
        const core::Checkpoint checkpoint(fuzz::inputDirectory());
        for (const std::string& name : checkpoint.names()) {
            // Every tensor the index accepted is one its shard holds.
            if (!checkpoint.shardOf(name).contains(name))
                std::abort();
            (void)checkpoint.info(name);
        }
        (void)checkpoint.dominantType();
    } catch (const core::Error&) {
    }
    return 0;
}
