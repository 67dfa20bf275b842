#pragma once
// Writing one dotted key ("weights.bits", "tesseraq.lwc_epochs") into a run config document: what
// `calibrate --set` and a sweep's axes do before the config is parsed (and validated) as a whole.
// Torch-free.

#include <nlohmann/json.hpp>

#include <string>

namespace core {

/// Sets `key` of `document` to `value`, creating the sections on the way. Throws core::Error
/// ("'a..b' has an empty part", "'weights' is not a section") naming the key.
void setConfigKey(nlohmann::json& document, const std::string& key, const nlohmann::json& value);

} // namespace core
