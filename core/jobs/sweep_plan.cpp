#include "jobs/sweep_plan.h"

#include "config/config_keys.h"
#include "config/run_config.h"
#include "config/run_identity.h"
#include "jobs/calibrate_job.h"
#include "util/error.h"
#include "util/strict_json.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

namespace core {
namespace {

namespace fs = std::filesystem;
// The manifest keeps its key order: the axes expand in the order the user wrote them.
using ordered = nlohmann::ordered_json;

// Writes `value` at the dotted `key` ("weights.bits") of a config document, creating sections.
// "loss": "mse:0.9,sw:0.1" is the CLI's shorthand for the terms.
void setKey(nlohmann::json& document, const std::string& key, const ordered& value, const std::string& where)
{
    try {
        setConfigKey(document, key,
                     key == "loss" && value.is_string()
                         ? nlohmann::json::parse(lossTermsToJson(parseLossShorthand(value.get<std::string>())))
                         : nlohmann::json::parse(value.dump()));
    } catch (const Error& e) {
        // The loss parser already names its key; other errors get it here.
        const std::string message = e.what();
        throw Error(where + ": " + (message.starts_with(key + ":") ? message : key + ": " + message));
    }
}

// "calibration.seed=1", "loss=mse:0.9,sw:0.1", "method=gptq".
std::string settingText(const std::string& key, const ordered& value)
{
    return key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
}

struct Variant {
    std::vector<std::pair<std::string, ordered>> keys;
};

std::vector<Variant> explicitRuns(const ordered& manifest, const std::string& path)
{
    if (!manifest.contains("runs"))
        return {Variant{}};
    const ordered& runs = manifest["runs"];
    if (!runs.is_array() || runs.empty())
        throw Error(path + ": 'runs' must be a non-empty array of objects (config keys → values)");
    std::vector<Variant> variants;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        if (!runs[i].is_object())
            throw Error(path + ": runs[" + std::to_string(i) + "] must be an object (config keys → values)");
        Variant variant;
        for (const auto& [key, value] : runs[i].items())
            variant.keys.emplace_back(key, value);
        variants.push_back(std::move(variant));
    }
    return variants;
}

// Every combination of the axes' values, the last axis varying fastest.
std::vector<Variant> axisCombinations(const ordered& manifest, const std::string& path)
{
    std::vector<Variant> combinations = {Variant{}};
    if (!manifest.contains("axes"))
        return combinations;
    const ordered& axes = manifest["axes"];
    if (!axes.is_object())
        throw Error(path + ": 'axes' must be an object (config key → list of values)");
    for (const auto& [key, values] : axes.items()) {
        if (!values.is_array() || values.empty())
            throw Error(path + ": axes." + key + " must be a non-empty list of values");
        std::vector<Variant> next;
        for (const Variant& partial : combinations)
            for (const ordered& value : values) {
                Variant extended = partial;
                extended.keys.emplace_back(key, value);
                next.push_back(std::move(extended));
            }
        combinations = std::move(next);
    }
    return combinations;
}

// Relative file paths of a run config (model, texts, task files) are relative to the
// manifest's directory, wherever the sweep is planned or its tasks run from.
void anchorPaths(nlohmann::json& document, const fs::path& directory)
{
    const auto anchor = [&](nlohmann::json& value) {
        if (value.is_string() && !value.get<std::string>().empty() && fs::path(value.get<std::string>()).is_relative())
            value = (directory / value.get<std::string>()).lexically_normal().string();
    };
    if (document.contains("model"))
        anchor(document["model"]);
    if (document.contains("calibration") && document["calibration"].is_object() &&
        document["calibration"].contains("text"))
        anchor(document["calibration"]["text"]);
    if (!document.contains("eval") || !document["eval"].is_object())
        return;
    nlohmann::json& eval = document["eval"];
    if (eval.contains("texts") && eval["texts"].is_array())
        for (nlohmann::json& text : eval["texts"])
            anchor(text);
    if (eval.contains("tasks") && eval["tasks"].is_array())
        for (nlohmann::json& task : eval["tasks"])
            if (task.is_object())
                for (const char* key : {"file", "labels"})
                    if (task.contains(key))
                        anchor(task[key]);
}

// A plan.json written by sweepPlanJson, in sweeps/<name>/: the sweep is named by its directory.
SweepPlan readSavedPlan(const ordered& runs, const std::string& path)
{
    SweepPlan plan;
    plan.manifestPath = fs::absolute(path).lexically_normal().string();
    plan.name = fs::path(plan.manifestPath).parent_path().filename().string();
    try {
        for (const ordered& run : runs) {
            SweepRun entry;
            entry.index = run.at("index").get<std::int64_t>();
            entry.name = run.at("name").get<std::string>();
            entry.settings = run.at("settings").get<std::vector<std::string>>();
            entry.configJson = run.at("config").dump(2);
            entry.contentHash = runContentHash(entry.configJson);
            if (entry.contentHash != run.at("hash").get<std::string>() ||
                entry.index != static_cast<std::int64_t>(plan.runs.size()))
                throw Error("run " + std::to_string(entry.index) + " does not match its hash or position (edited?)");
            plan.runs.push_back(std::move(entry));
        }
    } catch (const ordered::exception& e) {
        throw Error(path + ": not a saved sweep plan (" + e.what() + ")");
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    return plan;
}

} // namespace

SweepPlan planSweep(const std::string& path)
{
    SweepPlan plan;
    plan.manifestPath = fs::absolute(path).lexically_normal().string();
    const ordered manifest = parseStrictOrderedJson(readTextFile(path), path);
    if (manifest.is_array())
        return readSavedPlan(manifest, path);
    if (!manifest.is_object())
        throw Error(path + ": the sweep manifest must be a JSON object with 'name', 'base' and 'axes'");
    for (const auto& [key, value] : manifest.items())
        if (key != "name" && key != "base" && key != "axes" && key != "runs")
            throw Error(path + ": unknown key '" + key + "' (expected name, base, axes, runs)");
    if (!manifest.contains("name") || !manifest["name"].is_string() || manifest["name"].get<std::string>().empty())
        throw Error(path + ": 'name' (a non-empty string) is required: it names the sweep's directory and jobs");
    plan.name = manifest["name"].get<std::string>();
    if (plan.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            std::string::npos ||
        plan.name.front() == '.')
        throw Error(path + ": name '" + plan.name + "' may hold only letters, digits, '-', '_' and '.'");
    const ordered base = manifest.value("base", ordered::object());
    if (!base.is_object())
        throw Error(path + ": 'base' must be a run config object");

    // Relative paths in the manifest (model, texts) are relative to the manifest's directory.
    const fs::path manifestDirectory = fs::path(plan.manifestPath).parent_path();
    std::map<std::string, std::int64_t> byHash;
    for (const Variant& run : explicitRuns(manifest, path))
        for (const Variant& axes : axisCombinations(manifest, path)) {
            SweepRun entry;
            entry.index = static_cast<std::int64_t>(plan.runs.size());
            nlohmann::json document = nlohmann::json::parse(base.dump());
            std::vector<std::pair<std::string, ordered>> keys = run.keys;
            keys.insert(keys.end(), axes.keys.begin(), axes.keys.end());
            std::string settings;
            for (const auto& [key, value] : keys) {
                entry.settings.push_back(settingText(key, value));
                settings += (settings.empty() ? "" : ", ") + entry.settings.back();
            }
            const std::string where =
                path + " run " + std::to_string(entry.index) + (settings.empty() ? "" : " (" + settings + ")");
            for (const auto& [key, value] : keys)
                setKey(document, key, value, where);
            anchorPaths(document, manifestDirectory);
            RunConfig config = parseRunConfig(document.dump(), where);
            try {
                config = resolveRunConfig(config);
            } catch (const Error& e) {
                throw Error(where + ": " + e.what());
            }
            // The automatic name already says the method, the weights and the loss terms; the
            // other settings follow it. A base with a name gets every setting.
            const bool automatic = !base.contains("name");
            if (automatic)
                config.name = runDisplayName(config);
            for (const std::string& setting : entry.settings)
                if (!automatic || !(setting.starts_with("method=") || setting.starts_with("weights.") ||
                                    setting.starts_with("loss=")))
                    config.name += " " + setting;
            entry.name = config.name;
            entry.configJson = runConfigToJson(config);
            entry.contentHash = runContentHash(entry.configJson);
            if (const auto found = byHash.find(entry.contentHash); found != byHash.end())
                throw Error(where + ": the same run as run " + std::to_string(found->second) +
                            " (same config once resolved); every run of a sweep must differ");
            byHash[entry.contentHash] = entry.index;
            plan.runs.push_back(std::move(entry));
        }
    return plan;
}

std::string sweepPlanJson(const SweepPlan& plan)
{
    nlohmann::json runs = nlohmann::json::array();
    for (const SweepRun& run : plan.runs)
        runs.push_back({{"index", run.index},
                        {"name", run.name},
                        {"hash", run.contentHash},
                        {"settings", run.settings},
                        {"config", nlohmann::json::parse(run.configJson)}});
    return runs.dump(2);
}

std::string writeSweepPlan(const SweepPlan& plan, const std::string& workspaceDirectory)
{
    const std::string directory = sweepDirectory(workspaceDirectory, plan.name);
    fs::create_directories(directory);
    const std::string path = (fs::path(directory) / "plan.json").string();
    writeFileAtomically(path, sweepPlanJson(plan) + "\n");
    return path;
}

std::string sweepDirectory(const std::string& workspaceDirectory, const std::string& sweepName)
{
    return (fs::path(workspaceDirectory) / "sweeps" / sweepName).string();
}

std::string shardDirectory(const std::string& workspaceDirectory, const std::string& contentHash)
{
    return (fs::path(workspaceDirectory) / "shards" / contentHash).string();
}

} // namespace core
