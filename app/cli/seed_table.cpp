#include "cli/seed_table.h"

#include "cli/cli_common.h"
#include "jobs/seed_groups.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace app {
namespace {

using nlohmann::json;

// Perplexities with three decimals, accuracies and bits with four, seconds whole.
std::string meanAndSpread(const core::MetricSummary& summary, const std::string& column)
{
    if (summary.n == 0)
        return "-";
    const char* format = column.starts_with("perplexity") ? "%.3f" : column == "seconds" ? "%.0f" : "%.4f";
    char mean[64], spread[64];
    std::snprintf(mean, sizeof mean, format, summary.mean);
    if (summary.n < 2)
        return mean;
    std::snprintf(spread, sizeof spread, format, summary.standardDeviation);
    return std::string(mean) + " ± " + spread;
}

} // namespace

json seedGroupsJson(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds)
{
    json groups = json::array();
    for (const core::SeedGroup& group : core::groupRunsBySeed(workspace.catalog(), runIds)) {
        json metrics = json::object();
        for (const auto& [name, summary] : group.metrics)
            metrics[name] = {
                {"mean", jsonNumber(summary.mean)}, {"std", jsonNumber(summary.standardDeviation)}, {"n", summary.n}};
        groups.push_back({{"name", group.name},
                          {"kind", core::runKindName(group.kind)},
                          {"hash", group.hash},
                          {"runs", group.runIds},
                          {"seeds", group.seeds},
                          {"metrics", metrics}});
    }
    return groups;
}

std::string seedGroupsMarkdown(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds)
{
    const std::vector<core::SeedGroup> groups = core::groupRunsBySeed(workspace.catalog(), runIds);
    // The columns: every metric any group has, in the order they first appear.
    std::vector<std::string> columns;
    for (const core::SeedGroup& group : groups)
        for (const auto& [name, summary] : group.metrics)
            if (std::find(columns.begin(), columns.end(), name) == columns.end())
                columns.push_back(name);
    std::string text = "| run | kind | n | seeds |";
    for (const std::string& column : columns)
        text += " " + column + " |";
    text += "\n| --- | --- | --- | --- |";
    for (std::size_t i = 0; i < columns.size(); ++i)
        text += " --- |";
    text += "\n";
    for (const core::SeedGroup& group : groups) {
        std::string seeds;
        for (const std::uint64_t seed : group.seeds)
            seeds += (seeds.empty() ? "" : ", ") + std::to_string(seed);
        const char* kind = group.kind == core::RunKind::TestTimeAdapted ? "TTA"
                           : group.kind == core::RunKind::Preprocessed  ? "PTQ after preprocessing"
                                                                        : "PTQ";
        text += "| " + group.name + " | " + kind + " | " + std::to_string(group.runIds.size()) + " | " + seeds + " |";
        for (const std::string& column : columns) {
            const auto found = std::find_if(group.metrics.begin(), group.metrics.end(),
                                            [&](const auto& metric) { return metric.first == column; });
            text +=
                " " + (found == group.metrics.end() ? std::string("-") : meanAndSpread(found->second, column)) + " |";
        }
        text += "\n";
    }
    if (groups.empty())
        text = "no finished runs to group\n";
    return text;
}

} // namespace app
