// The table of the SW-alignment experiment (README.md here), read from the workspace that
// run.sh filled: runs are named "<variant> w<bits>g<group> seed<seed>". For every weight
// setting: perplexity on each test text (mean ± sample std over seeds), effective bits per
// weight and job seconds, the fraction of the
// host's log-perplexity loss that each extra loss term recovers (paired by seed: the same
// calibration windows), and the per-block projected SW1 and histogram KL of block outputs.
// Prints Markdown.

#include "common/seed_summary.h"
#include "store/workspace.h"
#include "util/error.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <regex>
#include <set>

namespace {

using experiments::format;
using experiments::summarize;
using experiments::Summary;

struct RunKey {
    std::string setting; ///< "w2g64"
    std::string variant; ///< "omniquant-mse-sw"
    int seed = 0;
};

// Per setting → variant → seed: metrics by name ("brown_test" perplexity, "block3.sw1", ...).
using Table = std::map<std::string, std::map<std::string, std::map<int, std::map<std::string, double>>>>;

// Values of `metric` over the seeds of one variant.
std::vector<double> over(const std::map<int, std::map<std::string, double>>& seeds, const std::string& metric)
{
    std::vector<double> values;
    for (const auto& [seed, metrics] : seeds)
        if (metrics.count(metric))
            values.push_back(metrics.at(metric));
    return values;
}

// (ln p_base − ln p_variant) / (ln p_base − ln p_fp) per seed present in both.
std::vector<double> recovery(const std::map<int, std::map<std::string, double>>& base,
                             const std::map<int, std::map<std::string, double>>& variant, const std::string& dataset,
                             double fp)
{
    std::vector<double> values;
    for (const auto& [seed, metrics] : variant) {
        const auto b = base.find(seed);
        if (b == base.end() || !b->second.count(dataset) || !metrics.count(dataset))
            continue;
        const double lost = std::log(b->second.at(dataset)) - std::log(fp);
        values.push_back((std::log(b->second.at(dataset)) - std::log(metrics.at(dataset))) / lost);
    }
    return values;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli("Tables of the SW-alignment experiment");
    std::string workspaceDir;
    std::vector<std::string> pairs = {"omniquant-mse:omniquant-mse-sw",  "omniquant-mse:omniquant-mse-sw-heavy",
                                      "omniquant-mse:omniquant-mse-nlc", "omniquant-mse:omniquant-mse-kltop",
                                      "tesseraq-l2:tesseraq-l2-sw",      "tesseraq-l2:tesseraq-l2-sw-scaled"};
    cli.add_option("--workspace", workspaceDir, "Workspace filled by run.sh")->required();
    cli.add_option("--pairs", pairs,
                   "HOST:VARIANT pairs for the recovered-fraction table (default: the SW experiment's; "
                   "experiments/oac/run.sh passes its own)")
        ->delimiter(',');
    CLI11_PARSE(cli, argc, argv);
    try {
        const core::Workspace workspace(workspaceDir);
        const std::regex pattern(R"(^(\S+) (w\d+g-?\d+) seed(\d+)$)");
        Table table;
        std::map<std::string, double> fp;
        std::set<std::string> datasets;
        std::int64_t blocks = 0;
        for (const auto& run : workspace.catalog().listRuns()) {
            std::smatch match;
            if (run.status != core::RunStatus::Finished || !std::regex_match(run.name, match, pattern))
                continue;
            auto& metrics = table[match[2]][match[1]][std::stoi(match[3])];
            const auto runMetrics = workspace.catalog().runMetrics(run.id);
            if (const auto bits = runMetrics.find("effective_bits"); bits != runMetrics.end())
                metrics["effective_bits"] = bits->second;
            if (std::isfinite(run.seconds))
                metrics["seconds"] = run.seconds;
            for (const auto& d : workspace.catalog().datasetMetrics(run.id)) {
                if (d.metric == "perplexity") {
                    metrics[d.dataset] = d.value;
                    datasets.insert(d.dataset);
                } else if (d.metric == "fp_perplexity") {
                    fp[d.dataset] = d.value;
                }
            }
            // Last-epoch loss terms, averaged over blocks, and each term's weight (from the config).
            std::map<std::string, std::pair<double, int>> lossSums;
            for (const auto& l : workspace.catalog().layerMetrics(run.id)) {
                if (l.metric == "sw1" || l.metric == "out_kl") {
                    metrics["block" + std::to_string(l.block) + "." + l.metric] = l.value;
                    blocks = std::max(blocks, l.block + 1);
                }
                if (l.metric.rfind("loss_last_epoch", 0) == 0) {
                    const std::string term = l.metric == "loss_last_epoch" ? "total" : l.metric.substr(16);
                    lossSums[term].first += l.value;
                    lossSums[term].second += 1;
                }
            }
            for (const auto& [term, sum] : lossSums)
                metrics["loss." + term] = sum.first / sum.second;
            for (const auto& term : nlohmann::json::parse(run.configJson).value("loss", nlohmann::json::array()))
                metrics["weight." + term.value("type", std::string())] = term.value("weight", 1.0);
        }
        if (table.empty())
            throw core::Error(workspaceDir + ": no finished runs named '<variant> w<bits>g<group> seed<n>'");

        std::vector<std::pair<std::string, std::string>> hosts;
        for (const std::string& pair : pairs) {
            const auto colon = pair.find(':');
            if (colon == std::string::npos)
                throw core::Error("--pairs " + pair + ": expected HOST:VARIANT");
            hosts.emplace_back(pair.substr(0, colon), pair.substr(colon + 1));
        }
        for (const auto& [setting, variants] : table) {
            std::printf("\n### %s\n\n| variant | seeds |", setting.c_str());
            for (const auto& d : datasets)
                std::printf(" %s ppl |", d.c_str());
            std::printf(" bits/weight | seconds |\n| --- | --- |");
            for (std::size_t i = 0; i < datasets.size() + 2; ++i)
                std::printf(" --- |");
            std::printf("\n| FP | – |");
            for (const auto& d : datasets)
                std::printf(" %.3f |", fp.count(d) ? fp.at(d) : NAN);
            std::printf(" 32 | – |\n");
            for (const auto& [variant, seeds] : variants) {
                std::printf("| %s | %zu |", variant.c_str(), seeds.size());
                for (const auto& d : datasets)
                    std::printf(" %s |", format(summarize(over(seeds, d))).c_str());
                std::printf(" %s | %s |\n", format(summarize(over(seeds, "effective_bits"))).c_str(),
                            format(summarize(over(seeds, "seconds")), "%.0f").c_str());
            }
            std::printf(
                "\nRecovered fraction of the host's log-perplexity loss, (ln p_host − ln p_variant) / "
                "(ln p_host − ln p_fp), paired by seed (positive = better than the host):\n\n| variant | host |");
            for (const auto& d : datasets)
                std::printf(" %s |", d.c_str());
            std::printf("\n| --- | --- |");
            for (std::size_t i = 0; i < datasets.size(); ++i)
                std::printf(" --- |");
            std::printf("\n");
            for (const auto& [host, variant] : hosts) {
                if (!variants.count(host) || !variants.count(variant))
                    continue;
                std::printf("| %s | %s |", variant.c_str(), host.c_str());
                for (const auto& d : datasets) {
                    Summary r = summarize(recovery(variants.at(host), variants.at(variant), d, fp[d]));
                    r.mean *= 100.0;
                    r.std *= 100.0;
                    std::printf(" %s %% |", format(r, "%.1f").c_str());
                }
                std::printf("\n");
            }
            std::printf("\nLast-epoch loss terms (unweighted, mean over blocks and seeds) and each term's share of "
                        "the weighted total:\n\n| variant | terms |\n| --- | --- |\n");
            for (const auto& [variant, seeds] : variants) {
                std::string cells;
                for (const char* term : {"mse", "l2", "sw", "nlc", "kl_top"}) {
                    const Summary value = summarize(over(seeds, std::string("loss.") + term));
                    if (value.count == 0)
                        continue;
                    const Summary weight = summarize(over(seeds, std::string("weight.") + term));
                    const Summary total = summarize(over(seeds, "loss.total"));
                    char cell[96];
                    std::snprintf(cell, sizeof cell, "%s %.4g (%.0f %%)", term, value.mean,
                                  100.0 * weight.mean * value.mean / total.mean);
                    cells += (cells.empty() ? "" : ", ") + std::string(cell);
                }
                if (!cells.empty())
                    std::printf("| %s | %s |\n", variant.c_str(), cells.c_str());
            }
            for (const char* metric : {"sw1", "out_kl"}) {
                std::printf("\nPer-block %s of block outputs, FP vs quantized stream (mean over seeds):\n\n| variant |",
                            metric);
                for (std::int64_t b = 0; b < blocks; ++b)
                    std::printf(" block %lld |", static_cast<long long>(b));
                std::printf("\n| --- |");
                for (std::int64_t b = 0; b < blocks; ++b)
                    std::printf(" --- |");
                std::printf("\n");
                for (const auto& [variant, seeds] : variants) {
                    std::printf("| %s |", variant.c_str());
                    for (std::int64_t b = 0; b < blocks; ++b)
                        std::printf(" %s |", format(summarize(over(seeds, "block" + std::to_string(b) + "." + metric)),
                                                    std::string(metric) == "sw1" ? "%.4f" : "%.2e")
                                                 .c_str());
                    std::printf("\n");
                }
            }
        }
    } catch (const core::Error& e) {
        std::cerr << "sw_alignment_report: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
