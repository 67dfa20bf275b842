#include "jobs/seed_groups.h"

#include "config/run_identity.h"
#include "eval/task_score.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <regex>

namespace core {
namespace {

std::uint64_t seedOf(const std::string& configJson)
{
    const auto config = nlohmann::json::parse(configJson);
    return config.contains("calibration") ? config["calibration"].value("seed", std::uint64_t(0)) : 0;
}

// "rtn w3g16 calibration.seed=2" → "rtn w3g16" (a sweep's naming), "lrquant w4a4 seed1" →
// "lrquant w4a4" (the experiments'); other names as they are.
std::string withoutSeed(const std::string& name)
{
    static const std::regex seed(R"(\s*calibration\.seed=\d+|\s+seed\d+$)");
    return std::regex_replace(name, seed, "");
}

std::string keyOf(const RunRecord& run, const std::map<std::int64_t, std::string>& keys)
{
    const auto parent = keys.find(run.parentRunId);
    if (run.parentRunId == 0 || parent == keys.end())
        return seedGroupHash(run.configJson);
    auto config = nlohmann::json::parse(run.configJson);
    config["model"] = "derived from seed group " + parent->second;
    return seedGroupHash(config.dump());
}

// One kind of metric of every run of a group, by name, in name order.
using Values = std::map<std::string, std::vector<double>>;

} // namespace

std::map<std::int64_t, std::string> seedGroupKeys(const std::vector<RunRecord>& runs)
{
    std::map<std::int64_t, std::string> keys;
    for (const RunRecord& run : runs) // parents have smaller ids: their keys come first
        keys[run.id] = keyOf(run, keys);
    return keys;
}

MetricSummary summarize(const std::vector<double>& values)
{
    MetricSummary summary;
    double sum = 0.0;
    for (const double value : values)
        if (std::isfinite(value)) {
            sum += value;
            ++summary.n;
        }
    if (summary.n == 0) {
        summary.mean = summary.standardDeviation = std::numeric_limits<double>::quiet_NaN();
        return summary;
    }
    summary.mean = sum / summary.n;
    double squares = 0.0;
    for (const double value : values)
        if (std::isfinite(value))
            squares += (value - summary.mean) * (value - summary.mean);
    summary.standardDeviation =
        summary.n > 1 ? std::sqrt(squares / (summary.n - 1)) : std::numeric_limits<double>::quiet_NaN();
    return summary;
}

std::vector<SeedGroup> groupRunsBySeed(const Catalog& catalog, const std::vector<std::int64_t>& runIds)
{
    const std::vector<RunRecord> all = catalog.listRuns();
    const std::map<std::int64_t, std::string> keys = seedGroupKeys(all);
    std::vector<RunRecord> runs;
    if (runIds.empty()) {
        for (const RunRecord& run : all)
            if (run.status == RunStatus::Finished)
                runs.push_back(run);
    } else {
        for (const std::int64_t id : runIds)
            runs.push_back(catalog.run(id));
    }
    // One sample per seed: a config run twice with the same seed (a re-run) counts once, the
    // newest run standing for it; runs that are not finished are no samples.
    std::map<std::pair<std::string, std::uint64_t>, std::int64_t> newestPerSeed;
    for (const RunRecord& run : runs)
        if (run.status == RunStatus::Finished) {
            auto& newest = newestPerSeed[{keys.at(run.id), seedOf(run.configJson)}];
            newest = std::max(newest, run.id);
        }
    std::erase_if(runs, [&](const RunRecord& run) {
        const auto found = newestPerSeed.find({keys.at(run.id), seedOf(run.configJson)});
        return found == newestPerSeed.end() || found->second != run.id;
    });
    std::vector<SeedGroup> groups;
    std::vector<std::array<Values, 5>> values; // perplexity, task metrics, avg acc, run metrics, seconds
    for (const RunRecord& run : runs) {
        const std::string hash = keys.at(run.id);
        auto group = std::find_if(groups.begin(), groups.end(), [&](const SeedGroup& g) { return g.hash == hash; });
        if (group == groups.end()) {
            groups.push_back({hash, withoutSeed(run.name), run.kind, {}, {}, {}});
            values.emplace_back();
            group = groups.end() - 1;
        }
        auto& kinds = values[static_cast<std::size_t>(group - groups.begin())];
        group->runIds.push_back(run.id);
        group->seeds.push_back(seedOf(run.configJson));
        for (const DatasetMetric& metric : catalog.datasetMetrics(run.id))
            if (metric.metric == "perplexity")
                kinds[0]["perplexity " + metric.dataset].push_back(metric.value);
        std::vector<TaskScore> scores;
        for (const TaskMetricRecord& metric : catalog.taskMetrics(run.id)) {
            if (!metric.reported || metric.metric.starts_with(kFullPrecisionPrefix))
                continue;
            kinds[1][metric.metric + " " + metric.task].push_back(metric.value);
            if (scores.empty() || scores.back().task != metric.task)
                scores.push_back({metric.task, metric.documents, {}});
            scores.back().metrics.push_back({metric.metric, metric.value, metric.standardError, metric.reported});
        }
        if (scores.size() > 1)
            kinds[2]["avg acc"].push_back(averageAccuracy(scores));
        for (const auto& [name, value] : catalog.runMetrics(run.id))
            kinds[3][name].push_back(value);
        kinds[4]["seconds"].push_back(run.seconds);
    }
    for (std::size_t g = 0; g < groups.size(); ++g)
        for (const Values& kind : values[g])
            for (const auto& [name, series] : kind)
                groups[g].metrics.emplace_back(name, summarize(series));
    return groups;
}

} // namespace core
