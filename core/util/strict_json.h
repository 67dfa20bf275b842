#pragma once
// JSON written by people or by other tools (run configs, sweep manifests, config.json, tokenizer
// files, safetensors headers and indexes), parsed strictly: a key given twice in one object is an
// error (nlohmann keeps the last silently, so a typo'd duplicate would change a run unnoticed),
// and every error names the file and the key path where it happened ("weights.bits"), not
// nlohmann's exception id.

#include <nlohmann/json.hpp>

#include <string>

namespace core {

/// Parses `text` read from `source` (a path, or a description such as "--config"). Throws
/// core::Error "<source>: key 'a.b': <what>" on invalid JSON, a number that does not fit a
/// double (1e400) and duplicate keys.
nlohmann::json parseStrictJson(const std::string& text, const std::string& source);

/// The same, keeping the keys in the order they were written (sweep axes expand in that order).
nlohmann::ordered_json parseStrictOrderedJson(const std::string& text, const std::string& source);

/// `error`'s message without nlohmann's "[json.exception.type_error.302] " prefix.
std::string jsonErrorText(const nlohmann::json::exception& error);

} // namespace core
