#pragma once
// The run config's "activations" and "kv" sections (issue 15 §4): dynamic fake-quant of every
// Linear input of the blocks and of K/V after RoPE. Both default to 16 bits (off), so configs
// written before they existed mean weight-only runs. Internal to core/config.

#include "config/object_reader.h"

namespace core {

struct RunConfig;

namespace config_detail {

void readStreamQuantSections(ObjectReader& parent, RunConfig& config);
void validateStreamQuantSections(const RunConfig& config, const std::string& source);
void writeStreamQuantSections(const RunConfig& config, json& document);

} // namespace config_detail
} // namespace core
