// Fuzzes the Hugging Face config.json reader. An accepted config must describe a decoder the
// model code can build: the invariants below are what the forward pass relies on.

#include "io/model_config.h"
#include "util/error.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const core::ModelConfig config = core::parseModelConfig(text, "config.json");
        const bool buildable = config.hiddenSize > 0 && config.intermediateSize > 0 && config.numLayers > 0 &&
                               config.numHeads > 0 && config.numKvHeads > 0 && config.headDim > 0 &&
                               config.vocabSize > 0 && config.numHeads % config.numKvHeads == 0;
        if (!buildable)
            std::abort();
    } catch (const core::Error&) {
    }
    return 0;
}
