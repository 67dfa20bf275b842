// The table of the OSTQuant experiment (README.md here), read from the workspace run.sh filled:
// runs are named "<variant> w<bits>a<bits>[kv<bits>] seed<seed>". Per setting and variant:
// perplexity on each test text (mean ± sample std over seeds), QSUR (per dimension) of the
// Linear inputs by type in the original basis and in the basis the weights were quantized in,
// the largest orthogonality error of the training steps, and the job's seconds. With --svg FILE
// also a scatter plot of mean input QSUR (quantized basis) against perplexity, one point per run.
// Prints Markdown.

#include "common/seed_summary.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/text_file.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <regex>
#include <set>

namespace {

using experiments::format;
using experiments::summarize;

// Per setting → variant → seed: metrics by name.
using Table = std::map<std::string, std::map<std::string, std::map<int, std::map<std::string, double>>>>;

// The Linear inputs that differ: attention input (q, k, v read it), o_proj's, the MLP input
// (gate, up) and down_proj's.
const std::vector<std::pair<std::string, std::string>> kInputs = {
    {"self_attn.q_proj", "qkv"}, {"self_attn.o_proj", "o"}, {"mlp.up_proj", "up/gate"}, {"mlp.down_proj", "down"}};

std::vector<double> over(const std::map<int, std::map<std::string, double>>& seeds, const std::string& metric)
{
    std::vector<double> values;
    for (const auto& [seed, metrics] : seeds)
        if (metrics.count(metric))
            values.push_back(metrics.at(metric));
    return values;
}

struct Point {
    double qsur, perplexity;
    std::string label;
};

// A plain SVG scatter plot: x = QSUR, y = perplexity, one colour per setting.
std::string scatterSvg(const std::vector<Point>& points, const std::string& dataset)
{
    double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
    for (const Point& p : points) {
        x0 = std::min(x0, p.qsur), x1 = std::max(x1, p.qsur);
        y0 = std::min(y0, p.perplexity), y1 = std::max(y1, p.perplexity);
    }
    const double padX = (x1 - x0) * 0.08 + 1e-9, padY = (y1 - y0) * 0.08 + 1e-9;
    x0 -= padX, x1 += padX, y0 -= padY, y1 += padY;
    const double w = 640, h = 420, left = 70, bottom = 50, top = 30, right = 160;
    const auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (w - left - right); };
    const auto py = [&](double y) { return h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top); };
    const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
    std::map<std::string, int> colourOf;
    std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='640' height='420' font-family='sans-serif' "
                      "font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
    char line[512];
    std::snprintf(line, sizeof line,
                  "<line x1='%g' y1='%g' x2='%g' y2='%g' stroke='black'/><line x1='%g' y1='%g' x2='%g' y2='%g' "
                  "stroke='black'/>\n",
                  left, h - bottom, w - right, h - bottom, left, h - bottom, left, top);
    svg += line;
    for (int t = 0; t <= 4; ++t) {
        const double x = x0 + (x1 - x0) * t / 4, y = y0 + (y1 - y0) * t / 4;
        std::snprintf(line, sizeof line,
                      "<text x='%g' y='%g' text-anchor='middle'>%.4f</text><text x='%g' y='%g' "
                      "text-anchor='end'>%.2f</text>\n",
                      px(x), h - bottom + 16, x, left - 6, py(y) + 4, y);
        svg += line;
    }
    std::snprintf(line, sizeof line,
                  "<text x='%g' y='%g' text-anchor='middle'>mean QSUR^(1/d) of the Linear inputs (quantized "
                  "basis)</text>\n<text x='16' y='%g' transform='rotate(-90 16 %g)' text-anchor='middle'>%s "
                  "perplexity</text>\n",
                  (left + w - right) / 2, h - 12, (top + h - bottom) / 2, (top + h - bottom) / 2, dataset.c_str());
    svg += line;
    for (const Point& p : points) {
        const std::string setting = p.label.substr(p.label.find(' ') + 1);
        const int c = colourOf.emplace(setting, static_cast<int>(colourOf.size())).first->second % 6;
        std::snprintf(line, sizeof line, "<circle cx='%g' cy='%g' r='4' fill='%s'><title>%s</title></circle>\n",
                      px(p.qsur), py(p.perplexity), colours[c], p.label.c_str());
        svg += line;
    }
    int row = 0;
    for (const auto& [setting, c] : colourOf) {
        std::snprintf(line, sizeof line, "<circle cx='%g' cy='%d' r='4' fill='%s'/><text x='%g' y='%d'>%s</text>\n",
                      w - right + 16, 40 + 18 * row, colours[c % 6], w - right + 26, 44 + 18 * row, setting.c_str());
        svg += line;
        ++row;
    }
    return svg + "</svg>\n";
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App cli("Tables of the OSTQuant experiment");
    std::string workspaceDir, svgPath;
    cli.add_option("--workspace", workspaceDir, "Workspace filled by run.sh")->required();
    cli.add_option("--svg", svgPath, "Write the QSUR-vs-perplexity scatter plot here");
    CLI11_PARSE(cli, argc, argv);
    try {
        const core::Workspace workspace(workspaceDir, core::OpenMode::ReadOnly);
        const std::regex pattern(R"(^(\S+) (w\d+a\d+(?:kv\d+)?) seed(\d+)$)");
        Table table;
        std::map<std::string, double> fp;
        std::set<std::string> datasets;
        for (const auto& run : workspace.catalog().listRuns()) {
            std::smatch match;
            if (run.status != core::RunStatus::Finished || !std::regex_match(run.name, match, pattern))
                continue;
            auto& metrics = table[match[2]][match[1]][std::stoi(match[3])];
            metrics["seconds"] = run.seconds;
            for (const auto& d : workspace.catalog().datasetMetrics(run.id)) {
                if (d.metric == "perplexity") {
                    metrics[d.dataset] = d.value;
                    datasets.insert(d.dataset);
                } else if (d.metric == "fp_perplexity") {
                    fp[d.dataset] = d.value;
                }
            }
            // Mean over blocks of each input type's QSUR, before the transforms and as quantized.
            std::map<std::string, std::pair<double, int>> sums;
            for (const auto& l : workspace.catalog().layerMetrics(run.id)) {
                if (l.metric == "orth_error_max")
                    metrics["orth_error_max"] = l.value;
                for (const auto& [linear, type] : kInputs)
                    if (l.layer.ends_with(linear) && (l.metric == "qsur_input_fp" || l.metric == "qsur_input_before")) {
                        auto& sum = sums[l.metric + "." + type];
                        sum.first += l.value, sum.second += 1;
                        auto& all = sums[l.metric + ".all"];
                        all.first += l.value, all.second += 1;
                    }
            }
            for (const auto& [key, sum] : sums)
                metrics[key] = sum.first / sum.second;
        }
        if (table.empty())
            throw core::Error(workspaceDir + ": no finished runs named '<variant> w<bits>a<bits>[kv<bits>] seed<n>'");

        std::printf("FP perplexity:");
        for (const auto& d : datasets)
            std::printf(" %s %.3f", d.c_str(), fp[d]);
        std::printf("\n");
        std::vector<Point> points;
        const std::string scatterDataset = datasets.empty() ? std::string() : *datasets.begin();
        for (const auto& [setting, variants] : table) {
            std::printf("\n### %s\n\n| variant |", setting.c_str());
            for (const auto& d : datasets)
                std::printf(" %s ppl |", d.c_str());
            std::printf(" QSUR in (quantized basis) |");
            for (const auto& [linear, type] : kInputs)
                std::printf(" %s before → after |", type.c_str());
            std::printf(" max ‖RᵀR−I‖ | seconds |\n| --- |");
            for (std::size_t i = 0; i < datasets.size() + kInputs.size() + 3; ++i)
                std::printf(" --- |");
            std::printf("\n");
            for (const auto& [variant, seeds] : variants) {
                std::printf("| %s |", variant.c_str());
                for (const auto& d : datasets)
                    std::printf(" %s |", format(summarize(over(seeds, d))).c_str());
                std::printf(" %s |", format(summarize(over(seeds, "qsur_input_fp.all")), "%.4f").c_str());
                for (const auto& [linear, type] : kInputs) {
                    const auto before = over(seeds, "qsur_input_before." + type);
                    const auto after = format(summarize(over(seeds, "qsur_input_fp." + type)), "%.4f");
                    std::printf(" %s |", before.empty() ? after.c_str()
                                                        : (format(summarize(before), "%.4f") + " → " + after).c_str());
                }
                const auto orth = over(seeds, "orth_error_max");
                std::printf(" %s | %s |\n", orth.empty() ? "–" : format(summarize(orth), "%.1e").c_str(),
                            format(summarize(over(seeds, "seconds")), "%.0f").c_str());
                for (const auto& [seed, metrics] : seeds)
                    if (metrics.count("qsur_input_fp.all") && metrics.count(scatterDataset))
                        points.push_back(
                            {metrics.at("qsur_input_fp.all"), metrics.at(scatterDataset), variant + " " + setting});
            }
        }
        if (!svgPath.empty() && !points.empty())
            core::writeFileAtomically(svgPath, scatterSvg(points, scatterDataset));
    } catch (const std::exception& e) {
        std::cerr << "ostquant_report: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
