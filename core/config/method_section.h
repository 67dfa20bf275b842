#pragma once
// The run config's method section ("gptq": {...}), read and written by the method's option
// schema (config/method_descriptor.h). Internal to core/config.

#include "config/object_reader.h"

namespace core {

struct RunConfig;

namespace config_detail {

/// Fills config.options with the method's defaults, then reads its section. Another method's
/// section is an error (the user switched methods and expects those options to act).
void readMethodSection(ObjectReader& parent, RunConfig& config);
/// Schema types and ranges, then the method's own cross-option checks.
void validateMethodSection(const RunConfig& config, const std::string& source);
void writeMethodSection(const RunConfig& config, json& document);

} // namespace config_detail
} // namespace core
