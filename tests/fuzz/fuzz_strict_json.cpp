// Fuzzes the strict JSON reader that run configs, sweep manifests, config.json, tokenizer files
// and safetensors headers go through. Properties: it throws only core::Error; what it accepts,
// nlohmann accepts too and reads to the same value (strictness only ever removes inputs); the
// key-ordered variant agrees with it.

#include "util/error.h"
#include "util/strict_json.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    bool accepted = false;
    nlohmann::json strict;
    try {
        strict = core::parseStrictJson(text, "input.json");
        accepted = true;
    } catch (const core::Error&) {
    }
    bool orderedAccepted = false;
    try {
        const nlohmann::ordered_json ordered = core::parseStrictOrderedJson(text, "input.json");
        orderedAccepted = true;
        if (accepted && nlohmann::json::parse(ordered.dump()) != strict)
            std::abort();
    } catch (const core::Error&) {
    }
    if (orderedAccepted != accepted)
        std::abort();
    if (accepted) {
        const nlohmann::json lenient = nlohmann::json::parse(text, nullptr, false);
        if (lenient.is_discarded() || lenient != strict)
            std::abort();
    }
    return 0;
}
