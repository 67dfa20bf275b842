#include "cli/run_tables.h"

#include "eval/task_score.h"

#include "cli/cli_common.h"
#include "util/error.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>

namespace app {
namespace {

using nlohmann::json;

std::string formatValue(double value, const char* format = "%.3f")
{
    if (std::isnan(value))
        return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

// A name stored before names were checked (issue 21) may hold control characters: printed raw,
// a newline or an escape sequence would break the table, so they are shown as \xNN.
std::string printableName(const std::string& name)
{
    std::string shown;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            shown += escaped;
        } else {
            shown += c;
        }
    }
    return shown;
}

// dataset → metric → value
std::map<std::string, std::map<std::string, double>> datasetTable(const core::Workspace& workspace, std::int64_t id)
{
    std::map<std::string, std::map<std::string, double>> table;
    for (const auto& m : workspace.catalog().datasetMetrics(id))
        table[m.dataset][m.metric] = m.value;
    return table;
}

std::string weightsSummary(const std::string& configJson)
{
    const json config = json::parse(configJson);
    const auto& weights = config.at("weights");
    const std::int64_t group = weights.at("group_size").get<std::int64_t>();
    // Appended rather than `"w" + std::to_string(...)`: that form trips GCC 12's false -Wrestrict
    // (a known libstdc++ char_traits diagnostic on string insert at position 0).
    std::string summary = "w";
    summary += std::to_string(weights.at("bits").get<int>());
    if (group > 0) {
        summary += "g";
        summary += std::to_string(group);
    } else {
        summary += " per-ch";
    }
    if (weights.at("symmetric").get<bool>())
        summary += " sym";
    return summary;
}

// dataset → perplexity of one run, from the one-query table of all runs
using Perplexities = std::map<std::int64_t, std::map<std::string, double>>;

json runSummaryJson(const core::RunRecord& run, const Perplexities& perplexities)
{
    json perplexity = json::object();
    if (const auto found = perplexities.find(run.id); found != perplexities.end())
        for (const auto& [dataset, value] : found->second)
            perplexity[dataset] = jsonNumber(value);
    return {{"id", run.id},
            {"name", run.name},
            {"method", run.method},
            {"weights", weightsSummary(run.configJson)},
            {"status", core::runStatusName(run.status)},
            {"created_at", run.createdAt},
            {"seconds", jsonNumber(run.seconds)},
            {"tags", run.tags},
            {"kind", core::runKindName(run.kind)},
            {"parent_run_id", run.parentRunId > 0 ? json(run.parentRunId) : json()},
            {"perplexity", perplexity}};
}

const core::LayerMetric* findMetric(const std::vector<core::LayerMetric>& metrics, const std::string& layer,
                                    const std::string& metric)
{
    for (const auto& m : metrics)
        if (m.layer == layer && m.metric == metric)
            return &m;
    return nullptr;
}

} // namespace

json runsListJson(const core::Workspace& workspace)
{
    json runs = json::array();
    const Perplexities perplexities = workspace.catalog().datasetMetricOfAllRuns("perplexity");
    for (const auto& run : workspace.catalog().listRuns())
        runs.push_back(runSummaryJson(run, perplexities));
    return runs;
}

void printRunsList(const core::Workspace& workspace)
{
    const auto runs = workspace.catalog().listRuns();
    std::cout << "workspace " << workspace.directory() << " (" << runs.size() << " runs)\n";
    if (runs.empty())
        return;
    std::printf("%5s  %-9s  %-28s  %-12s  %-20s  %s\n", "id", "status", "name", "weights", "created", "perplexity");
    const Perplexities all = workspace.catalog().datasetMetricOfAllRuns("perplexity");
    for (const auto& run : runs) {
        std::string perplexities;
        if (const auto found = all.find(run.id); found != all.end())
            for (const auto& [dataset, value] : found->second)
                perplexities += (perplexities.empty() ? "" : "  ") + dataset + " " + formatValue(value, "%.2f");
        // A TTA run's perplexities come from the text it adapted to: marked, never plain PTQ numbers.
        if (run.kind == core::RunKind::TestTimeAdapted)
            perplexities += "  [TTA of run " + std::to_string(run.parentRunId) + "]";
        else if (run.kind != core::RunKind::Ptq)
            perplexities += "  [" + core::runKindName(run.kind) + " of run " + std::to_string(run.parentRunId) + "]";
        std::printf("%5lld  %-9s  %-28s  %-12s  %-20s  %s\n", static_cast<long long>(run.id),
                    core::runStatusName(run.status).c_str(), printableName(run.name).substr(0, 28).c_str(),
                    weightsSummary(run.configJson).c_str(), run.createdAt.c_str(), perplexities.c_str());
    }
}

json runShowJson(const core::Workspace& workspace, std::int64_t runId)
{
    const core::RunRecord run = workspace.catalog().run(runId);
    // One run: its own dataset table, not every run's perplexities.
    Perplexities perplexities;
    for (const auto& [dataset, metrics] : datasetTable(workspace, runId))
        if (metrics.count("perplexity"))
            perplexities[runId][dataset] = metrics.at("perplexity");
    json out = runSummaryJson(run, perplexities);
    out["config"] = json::parse(run.configJson);
    out["model_path"] = run.modelPath;
    out["model_fingerprint"] = run.modelFingerprint;
    out["started_at"] = run.startedAt;
    out["finished_at"] = run.finishedAt;
    out["error"] = run.errorMessage;
    json datasets = json::object();
    for (const auto& [dataset, metrics] : datasetTable(workspace, runId)) {
        json entry = json::object();
        for (const auto& [metric, value] : metrics)
            entry[metric] = jsonNumber(value);
        datasets[dataset] = entry;
    }
    out["datasets"] = datasets;
    json layers = json::array();
    std::map<std::string, std::size_t> index;
    for (const auto& m : workspace.catalog().layerMetrics(runId)) {
        if (!index.count(m.layer)) {
            index[m.layer] = layers.size();
            layers.push_back({{"name", m.layer}, {"block", m.block}});
        }
        layers[index[m.layer]][m.metric] = jsonNumber(m.value);
    }
    // Linears (with calibration metrics) apart from block outputs (diagnostics only).
    json linears = json::array(), blocks = json::array();
    for (auto& entry : layers)
        (entry.contains("rel_error") ? linears : blocks).push_back(std::move(entry));
    out["layers"] = linears;
    out["blocks"] = blocks;
    return out;
}

void printRunShow(const core::Workspace& workspace, std::int64_t runId)
{
    const core::RunRecord run = workspace.catalog().run(runId);
    std::cout << "run " << run.id << ": " << printableName(run.name) << "\n"
              << "status     " << core::runStatusName(run.status)
              << (run.errorMessage.empty() ? "" : " (" + run.errorMessage + ")") << "\n"
              << "method     " << run.method << ", " << weightsSummary(run.configJson) << "\n"
              << "model      " << run.modelPath << " (fingerprint " << run.modelFingerprint << ")\n"
              << "created    " << run.createdAt << ", finished " << (run.finishedAt.empty() ? "-" : run.finishedAt)
              << ", " << formatValue(run.seconds, "%.1f") << " s\n";
    const auto datasets = datasetTable(workspace, runId);
    if (!datasets.empty())
        std::printf("\n%-20s %12s %12s %9s\n", "dataset", "perplexity", "fp", "change");
    for (const auto& [dataset, metrics] : datasets) {
        const double q = metrics.count("perplexity") ? metrics.at("perplexity") : NAN;
        const double fp = metrics.count("fp_perplexity") ? metrics.at("fp_perplexity") : NAN;
        std::printf("%-20s %12s %12s %8s%%\n", dataset.c_str(), formatValue(q).c_str(), formatValue(fp).c_str(),
                    formatValue(100.0 * (q / fp - 1.0), "%+.2f").c_str());
    }
    const auto tasks = workspace.catalog().taskMetrics(runId);
    if (!tasks.empty())
        std::printf("\n%-22s %-13s %10s %10s %8s\n", "task", "metric", "value", "stderr", "n");
    for (const auto& m : tasks)
        std::printf("%-22s %-13s %10s %10s %8lld%s\n", m.task.c_str(), m.metric.c_str(),
                    formatValue(m.value, "%.4f").c_str(), formatValue(m.standardError, "%.4f").c_str(),
                    static_cast<long long>(m.documents), m.reported ? "" : "  (not a harness metric of the task)");
    const auto layers = workspace.catalog().layerMetrics(runId);
    // Linears carry rel_error; block outputs carry the diagnostics (sw1, ...) and, for
    // methods that learn, their training loss.
    const auto width = [](const char* metric) { return std::max(12, static_cast<int>(std::strlen(metric))); };
    const auto isLinear = [&](const std::string& layer) { return findMetric(layers, layer, "rel_error") != nullptr; };
    const auto printTable = [&](bool linears, const std::vector<std::pair<const char*, const char*>>& columns) {
        bool header = false;
        std::map<std::string, bool> printed;
        for (const auto& m : layers) {
            if (printed[m.layer] || isLinear(m.layer) != linears)
                continue;
            printed[m.layer] = true;
            if (!header) {
                std::printf("\n%-40s", "layer");
                for (const auto& [metric, format] : columns)
                    std::printf(" %*s", width(metric), metric);
                std::printf("\n");
                header = true;
            }
            std::printf("%-40s", m.layer.c_str());
            for (const auto& [metric, format] : columns) {
                const auto* value = findMetric(layers, m.layer, metric);
                std::printf(" %*s", width(metric), formatValue(value ? value->value : NAN, format).c_str());
            }
            std::printf("\n");
        }
    };
    printTable(true, {{"rel_error", "%.3e"},
                      {"sqnr_db", "%.2f"},
                      {"input_kl", "%.3e"},
                      {"qsur_input_fp", "%.4f"},
                      {"saliency_mean", "%.3e"},
                      {"seconds", "%.3f"}});
    printTable(false, {{"sw1", "%.4f"},
                       {"sw2", "%.4f"},
                       {"out_kl", "%.3e"},
                       {"out_cosine", "%.5f"},
                       {"out_sqnr_db", "%.2f"},
                       {"loss_first_epoch", "%.4g"},
                       {"loss_last_epoch", "%.4g"}});
}

json compareJson(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds, const std::string& metric)
{
    if (runIds.size() < 2)
        throw core::Error("compare: give at least two run ids");
    std::vector<core::RunRecord> runs;
    std::vector<std::map<std::string, std::map<std::string, double>>> datasets;
    std::vector<std::vector<core::LayerMetric>> layers;
    for (const auto id : runIds) {
        runs.push_back(workspace.catalog().run(id));
        datasets.push_back(datasetTable(workspace, id));
        layers.push_back(workspace.catalog().layerMetrics(id));
    }
    json out{{"metric", metric}, {"runs", json::array()}, {"datasets", json::array()}, {"layers", json::array()}};
    for (const auto& run : runs) {
        const auto runMetrics = workspace.catalog().runMetrics(run.id);
        const auto bits = runMetrics.find("effective_bits");
        out["runs"].push_back({{"id", run.id},
                               {"name", run.name},
                               {"status", core::runStatusName(run.status)},
                               {"effective_bits", jsonNumber(bits != runMetrics.end() ? bits->second : NAN)}});
    }

    // Rows in the order of the first run that has them.
    std::vector<std::string> datasetNames;
    for (const auto& table : datasets)
        for (const auto& [name, metrics] : table)
            if (std::find(datasetNames.begin(), datasetNames.end(), name) == datasetNames.end())
                datasetNames.push_back(name);
    for (const auto& name : datasetNames) {
        json values = json::array(), differences = json::array();
        double first = NAN;
        double fp = NAN;
        for (std::size_t r = 0; r < runs.size(); ++r) {
            const auto it = datasets[r].find(name);
            const double value =
                it != datasets[r].end() && it->second.count("perplexity") ? it->second.at("perplexity") : NAN;
            if (it != datasets[r].end() && it->second.count("fp_perplexity") && std::isnan(fp))
                fp = it->second.at("fp_perplexity");
            if (r == 0)
                first = value;
            values.push_back(jsonNumber(value));
            differences.push_back(jsonNumber(value - first));
        }
        out["datasets"].push_back({{"dataset", name},
                                   {"fp_perplexity", jsonNumber(fp)},
                                   {"perplexity", values},
                                   {"difference", differences}});
    }
    // Zero-shot tasks: each metric the harness reports for the task, then the average acc of
    // the runs that scored every task listed.
    std::vector<std::vector<core::TaskMetricRecord>> tasks;
    for (const auto& run : runs)
        tasks.push_back(workspace.catalog().taskMetrics(run.id));
    std::vector<std::pair<std::string, std::string>> taskRows;
    for (const auto& rows : tasks)
        for (const auto& m : rows)
            if (m.reported && !m.metric.starts_with(core::kFullPrecisionPrefix) &&
                std::find(taskRows.begin(), taskRows.end(), std::make_pair(m.task, m.metric)) == taskRows.end())
                taskRows.emplace_back(m.task, m.metric);
    const auto findTask = [](const std::vector<core::TaskMetricRecord>& rows, const std::string& task,
                             const std::string& metric) -> const core::TaskMetricRecord* {
        for (const auto& m : rows)
            if (m.task == task && m.metric == metric)
                return &m;
        return nullptr;
    };
    out["tasks"] = json::array();
    for (const auto& [task, metric] : taskRows) {
        json values = json::array(), errors = json::array(), documents = json::array();
        double fp = NAN;
        for (const auto& rows : tasks) {
            if (const auto* reference = findTask(rows, task, core::kFullPrecisionPrefix + metric);
                reference && std::isnan(fp))
                fp = reference->value;
            const auto* m = findTask(rows, task, metric);
            values.push_back(jsonNumber(m ? m->value : NAN));
            errors.push_back(jsonNumber(m ? m->standardError : NAN));
            documents.push_back(m ? m->documents : 0);
        }
        out["tasks"].push_back({{"task", task},
                                {"metric", metric},
                                {"fp", jsonNumber(fp)},
                                {"values", values},
                                {"stderr", errors},
                                {"n", documents}});
    }
    json averages = json::array();
    for (const auto& rows : tasks) {
        double sum = 0.0;
        int count = 0, expected = 0;
        for (const auto& [task, metric] : taskRows) {
            if (metric != "acc")
                continue;
            ++expected;
            if (const auto* m = findTask(rows, task, metric)) {
                sum += m->value;
                ++count;
            }
        }
        averages.push_back(jsonNumber(count > 0 && count == expected ? sum / count : NAN));
    }
    out["average_acc"] = averages;

    std::vector<std::string> layerNames;
    for (const auto& rows : layers)
        for (const auto& m : rows)
            if (m.metric == metric && std::find(layerNames.begin(), layerNames.end(), m.layer) == layerNames.end())
                layerNames.push_back(m.layer);
    for (const auto& name : layerNames) {
        json values = json::array(), differences = json::array();
        double first = NAN;
        for (std::size_t r = 0; r < runs.size(); ++r) {
            const auto* m = findMetric(layers[r], name, metric);
            const double value = m ? m->value : NAN;
            if (r == 0)
                first = value;
            values.push_back(jsonNumber(value));
            differences.push_back(jsonNumber(value - first));
        }
        out["layers"].push_back({{"layer", name}, {"values", values}, {"difference", differences}});
    }
    return out;
}

void printCompare(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds, const std::string& metric)
{
    const json table = compareJson(workspace, runIds, metric);
    const auto cell = [](const json& value, const char* format) {
        return value.is_null() ? std::string("-") : formatValue(value.get<double>(), format);
    };
    std::cout << "runs:";
    for (const auto& run : table["runs"])
        std::cout << "  [" << run["id"].get<std::int64_t>() << "] " << run["name"].get<std::string>();
    std::cout << "\n\n";
    std::printf("%-16s %10s", "perplexity", "fp");
    for (const auto& run : table["runs"])
        std::printf(" %12s", ("run " + std::to_string(run["id"].get<std::int64_t>())).c_str());
    std::printf("   (change vs run %lld)\n", static_cast<long long>(runIds.front()));
    for (const auto& row : table["datasets"]) {
        std::printf("%-16s %10s", row["dataset"].get<std::string>().c_str(),
                    cell(row["fp_perplexity"], "%.3f").c_str());
        for (const auto& value : row["perplexity"])
            std::printf(" %12s", cell(value, "%.3f").c_str());
        std::printf("  ");
        for (std::size_t r = 1; r < row["difference"].size(); ++r)
            std::printf(" %9s", cell(row["difference"][r], "%+.3f").c_str());
        std::printf("\n");
    }
    std::printf("%-16s %10s", "bits/weight", "32");
    for (const auto& run : table["runs"])
        std::printf(" %12s", cell(run["effective_bits"], "%.3f").c_str());
    if (!table["tasks"].empty()) {
        std::printf("\n\n%-27s %10s", "zero-shot (harness metrics)", "fp");
        for (const auto& run : table["runs"])
            std::printf(" %12s", ("run " + std::to_string(run["id"].get<std::int64_t>())).c_str());
        std::printf("\n");
        for (const auto& row : table["tasks"]) {
            const std::string label = row["task"].get<std::string>() + " " + row["metric"].get<std::string>();
            std::printf("%-27s %10s", label.c_str(), cell(row["fp"], "%.4f").c_str());
            for (const auto& value : row["values"])
                std::printf(" %12s", cell(value, "%.4f").c_str());
            std::printf("   (n %lld, stderr %s)\n", static_cast<long long>(row["n"][0].get<std::int64_t>()),
                        cell(row["stderr"][0], "%.4f").c_str());
        }
        std::printf("%-27s %10s", "average acc", "");
        for (const auto& value : table["average_acc"])
            std::printf(" %12s", cell(value, "%.4f").c_str());
    }
    std::printf("\n\n%-40s", metric.c_str());
    for (const auto& run : table["runs"])
        std::printf(" %11s", ("run " + std::to_string(run["id"].get<std::int64_t>())).c_str());
    std::printf("\n");
    for (const auto& row : table["layers"]) {
        std::printf("%-40s", row["layer"].get<std::string>().c_str());
        for (const auto& value : row["values"])
            std::printf(" %11s", cell(value, "%.4g").c_str());
        std::printf("\n");
    }
}

} // namespace app
