#include "config/run_identity.h"

#include "util/error.h"
#include "util/fingerprint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace core {
namespace {

using nlohmann::json;

json parsed(const std::string& text)
{
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded() || !document.is_object())
        throw Error("run config: not a JSON object (content hash)");
    return document;
}

// nlohmann::json keeps object keys sorted, so dump() is canonical whatever the input order.
std::string hashOf(const json& document)
{
    Fingerprint fingerprint;
    fingerprint.add(document.dump());
    return fingerprint.hex();
}

void flatten(const json& node, const std::string& key, std::map<std::string, std::string>& leaves)
{
    if (node.is_object() && !node.empty()) {
        for (const auto& [name, value] : node.items())
            flatten(value, key.empty() ? name : key + "." + name, leaves);
        return;
    }
    leaves[key] = node.dump();
}

} // namespace

std::string runContentHash(const std::string& canonicalConfigJson)
{
    json document = parsed(canonicalConfigJson);
    document.erase("name");
    return hashOf(document);
}

std::string seedGroupHash(const std::string& canonicalConfigJson)
{
    json document = parsed(canonicalConfigJson);
    document.erase("name");
    if (document.contains("calibration") && document["calibration"].is_object())
        document["calibration"].erase("seed");
    return hashOf(document);
}

std::vector<std::string> changedConfigKeys(const std::string& beforeJson, const std::string& afterJson)
{
    std::map<std::string, std::string> before, after;
    flatten(parsed(beforeJson), "", before);
    flatten(parsed(afterJson), "", after);
    std::vector<std::string> changes;
    for (const auto& [key, value] : before) {
        const auto found = after.find(key);
        if (found == after.end())
            changes.push_back(key + ": " + value + " → (absent)");
        else if (found->second != value)
            changes.push_back(key + ": " + value + " → " + found->second);
    }
    for (const auto& [key, value] : after)
        if (!before.count(key))
            changes.push_back(key + ": (absent) → " + value);
    std::sort(changes.begin(), changes.end());
    return changes;
}

} // namespace core
