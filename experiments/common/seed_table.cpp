// The table of an experiment whose runs are named "<variant> seed<N>" (experiments/lrquant,
// experiments/ptq161), read from its workspace: one row per variant in the order its first run
// was made, with each test text's perplexity and the run's bits per weight as mean ± sample std
// over the finished seeds, the seed count, the mean job seconds, and what the runs are (PTQ, PTQ
// of a preprocessed model, or TTA of a parent run). Prints Markdown.

#include "common/seed_summary.h"
#include "store/workspace.h"
#include "util/error.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <regex>
#include <set>

namespace {

struct Variant {
    std::map<std::string, std::vector<double>> perplexity; ///< by dataset
    std::vector<double> bits, seconds;
    std::set<std::string> kinds;
};

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli("Seed-averaged table of an experiment's workspace (runs named '<variant> seed<N>')");
    std::string workspaceDir;
    cli.add_option("--workspace", workspaceDir, "The experiment's workspace")->required();
    CLI11_PARSE(cli, argc, argv);
    try {
        const core::Workspace workspace(workspaceDir, core::OpenMode::ReadOnly);
        const core::Catalog& catalog = workspace.catalog();
        const std::regex seedSuffix(R"((.*) seed(\d+)$)");
        std::vector<std::string> order;
        std::map<std::string, Variant> variants;
        std::set<std::string> datasets;
        const auto bits = catalog.runMetricOfAllRuns("effective_bits");
        for (const core::RunRecord& run : catalog.listRuns()) {
            std::smatch match;
            if (run.status != core::RunStatus::Finished || !std::regex_match(run.name, match, seedSuffix))
                continue;
            const std::string name = match[1];
            if (!variants.count(name))
                order.push_back(name);
            Variant& v = variants[name];
            for (const auto& m : catalog.datasetMetrics(run.id))
                if (m.metric == "perplexity") {
                    v.perplexity[m.dataset].push_back(m.value);
                    datasets.insert(m.dataset);
                }
            if (const auto b = bits.find(run.id); b != bits.end())
                v.bits.push_back(b->second);
            v.seconds.push_back(run.seconds);
            v.kinds.insert(run.kind == core::RunKind::TestTimeAdapted ? "TTA"
                           : run.kind == core::RunKind::Preprocessed  ? "PTQ after preprocessing"
                                                                      : "PTQ");
        }
        std::cout << "| variant | runs |";
        for (const auto& d : datasets)
            std::cout << " " << d << " |";
        std::cout << " bits/weight | seconds | seeds |\n|---|---|";
        for (std::size_t i = 0; i < datasets.size(); ++i)
            std::cout << "---|";
        std::cout << "---|---|---|\n";
        for (const auto& name : order) {
            const Variant& v = variants.at(name);
            std::string kinds;
            for (const auto& k : v.kinds)
                kinds += (kinds.empty() ? "" : "+") + k;
            std::cout << "| " << name << " | " << kinds << " |";
            for (const auto& d : datasets) {
                const auto found = v.perplexity.find(d);
                std::cout << " "
                          << (found == v.perplexity.end()
                                  ? "–"
                                  : experiments::format(experiments::summarize(found->second), "%.2f"))
                          << " |";
            }
            std::cout << " " << experiments::format(experiments::summarize(v.bits), "%.3f") << " | "
                      << experiments::format(experiments::summarize(v.seconds), "%.0f") << " | " << v.seconds.size()
                      << " |\n";
        }
    } catch (const core::Error& e) {
        std::cerr << "seed_table: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
