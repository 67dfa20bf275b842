#include "cli/diag_command.h"

#include "cli/cli_common.h"
#include "diagnostics/diagnostics_reader.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>

namespace app {
namespace {

using nlohmann::json;

// layer → metric → value, from the catalog
std::map<std::string, std::map<std::string, double>> layerMetricTable(const core::Workspace& workspace, std::int64_t id)
{
    std::map<std::string, std::map<std::string, double>> table;
    for (const auto& m : workspace.catalog().layerMetrics(id))
        table[m.layer][m.metric] = m.value;
    return table;
}

json histogramJson(const core::HistogramPair& h)
{
    return {{"lo", h.lo},
            {"hi", h.hi},
            {"bins", h.fp.size()},
            {"fp", h.fp},
            {"quantized", h.quantized},
            {"fp_underflow_overflow_nan", h.fpOutside},
            {"quantized_underflow_overflow_nan", h.quantizedOutside}};
}

json qsurJson(const std::optional<core::QsurSummary>& q)
{
    if (!q)
        return nullptr;
    return {{"per_dim", jsonNumber(q->perDim)},  {"per_dim_normalized", jsonNumber(q->perDimNormalized)},
            {"log10", jsonNumber(q->log10Qsur)}, {"samples", q->samples},
            {"spectrum", q->spectrum},           {"diagonal", q->diagonal}};
}

json linearJson(const core::LinearDiagnostics& d, const std::map<std::string, double>& metrics)
{
    json out{{"layer", d.layer},
             {"metrics", json::object()},
             {"input_histogram", histogramJson(d.input)},
             {"weight_histogram", histogramJson(d.weight)},
             {"input_channels",
              {{"fp_absmax", d.channels[0]},
               {"fp_mean", d.channels[1]},
               {"fp_std", d.channels[2]},
               {"quantized_absmax", d.channels[3]},
               {"quantized_mean", d.channels[4]},
               {"quantized_std", d.channels[5]}}},
             {"qsur",
              {{"input_fp", qsurJson(d.qsurInputFp)},
               {"input_quantized", qsurJson(d.qsurInputQuantized)},
               {"weight", qsurJson(d.qsurWeight)}}}};
    // Rotation methods: the original basis under "before" (the values above are after the transforms).
    if (d.qsurInputBefore || d.qsurWeightBefore)
        out["qsur"]["before"] = {{"input", qsurJson(d.qsurInputBefore)}, {"weight", qsurJson(d.qsurWeightBefore)}};
    if (d.rotationInput)
        out["rotation"] = {{"input_histogram", histogramJson(*d.rotationInput)},
                           {"input_absmax", {{"before", d.rotationAbsMax[0]}, {"after", d.rotationAbsMax[1]}}}};
    for (const auto& [metric, value] : metrics)
        out["metrics"][metric] = jsonNumber(value);
    if (d.saliency) {
        json top = json::array();
        for (const auto& e : d.saliency->topObs)
            top.push_back({{"row", e.row}, {"column", e.column}, {"value", e.value}});
        out["saliency"] = {{"map_shape", d.saliency->obsMap.shape},
                           {"pool", {d.saliency->poolRows, d.saliency->poolColumns}},
                           {"obs_map", d.saliency->obsMap.values},
                           {"sensitivity_map", d.saliency->sensitivityMap.values},
                           {"hessian_diagonal", d.saliency->hessianDiagonal},
                           {"obs_profile", d.saliency->obsProfile},
                           {"sensitivity_profile", d.saliency->sensitivityProfile},
                           {"top_obs", top}};
    }
    return out;
}

// Per term (and "total"): the mean of every epoch.
json lossJson(const std::optional<core::BlockLossCurve>& curve)
{
    if (!curve)
        return nullptr;
    json epochMeans = json::object();
    const auto epochs = static_cast<std::int64_t>(
        (curve->steps.size() + static_cast<std::size_t>(std::max<std::int64_t>(1, curve->stepsPerEpoch)) - 1) /
        static_cast<std::size_t>(std::max<std::int64_t>(1, curve->stepsPerEpoch)));
    for (std::size_t t = 0; t <= curve->terms.size(); ++t) {
        json means = json::array();
        for (std::int64_t e = 0; e < epochs; ++e)
            means.push_back(jsonNumber(curve->epochMean(e, t)));
        epochMeans[t < curve->terms.size() ? curve->terms[t] : "total"] = means;
    }
    return {{"terms", curve->terms},
            {"steps", curve->steps.size()},
            {"steps_per_epoch", curve->stepsPerEpoch},
            {"epoch_means", epochMeans}};
}

json blockJson(const core::BlockDiagnostics& d, const std::map<std::string, double>& metrics)
{
    json out{
        {"block", d.block},
        {"metrics", json::object()},
        {"output_histogram", histogramJson(d.output)},
        {"sw", {{"w1", d.w1}, {"w2", d.w2}}},
        {"projection_histograms",
         {{"shape", d.histFp.shape},
          {"edges", d.histEdges.values},
          {"fp", d.histFp.values},
          {"quantized", d.histQuantized.values}}},
        {"projection_quantiles",
         {{"shape", d.quantilesFp.shape}, {"fp", d.quantilesFp.values}, {"quantized", d.quantilesQuantized.values}}},
        {"loss", lossJson(d.loss)}};
    for (const auto& [metric, value] : metrics)
        out["metrics"][metric] = jsonNumber(value);
    return out;
}

std::string describeHistogram(const core::HistogramPair& h)
{
    char line[256];
    const std::int64_t fpTotal = std::accumulate(h.fp.begin(), h.fp.end(), std::int64_t(0));
    std::snprintf(line, sizeof line,
                  "[%.4g, %.4g) in %zu bins, %lld FP values; outside: FP %lld/%lld, quantized %lld/%lld", h.lo, h.hi,
                  h.fp.size(), static_cast<long long>(fpTotal), static_cast<long long>(h.fpOutside[0]),
                  static_cast<long long>(h.fpOutside[1]), static_cast<long long>(h.quantizedOutside[0]),
                  static_cast<long long>(h.quantizedOutside[1]));
    return line;
}

void printMetrics(const std::map<std::string, double>& metrics)
{
    std::cout << "metrics:";
    for (const auto& [metric, value] : metrics)
        std::printf("  %s %.4g", metric.c_str(), value);
    std::cout << "\n";
}

void printLinear(const core::LinearDiagnostics& d, const std::map<std::string, double>& metrics)
{
    std::cout << "layer " << d.layer << "\n";
    printMetrics(metrics);
    std::cout << "input histogram   " << describeHistogram(d.input) << "\n";
    std::cout << "weight histogram  " << describeHistogram(d.weight) << "\n";
    // The outlier channels users look for: largest FP absmax, next to the median.
    const std::vector<float>& absMax = d.channels[0];
    std::vector<std::size_t> order(absMax.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return absMax[a] > absMax[b]; });
    std::vector<float> sorted(absMax);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    std::printf("input channels    median absmax %.4g; largest:", sorted[sorted.size() / 2]);
    for (std::size_t i = 0; i < std::min<std::size_t>(5, order.size()); ++i)
        std::printf("  ch %zu %.4g (quantized %.4g)", order[i], absMax[order[i]], d.channels[3][order[i]]);
    std::cout << "\n";
    const auto printQsur = [](const char* label, const std::optional<core::QsurSummary>& q) {
        if (q)
            std::printf("QSUR %-13s per-dim %.4f (%.3f of ideal), log10 %.1f, %lld samples\n", label, q->perDim,
                        q->perDimNormalized, q->log10Qsur, static_cast<long long>(q->samples));
    };
    printQsur("input FP", d.qsurInputFp);
    printQsur("input quant.", d.qsurInputQuantized);
    printQsur("weight", d.qsurWeight);
    printQsur("input before", d.qsurInputBefore); // rotation methods: the original basis
    printQsur("weight before", d.qsurWeightBefore);
    if (d.saliency) {
        const auto& s = *d.saliency;
        std::printf("saliency          map %lldx%lld (max-pooled %lldx%lld); top OBS-salient weights:",
                    static_cast<long long>(s.obsMap.shape.at(0)), static_cast<long long>(s.obsMap.shape.at(1)),
                    static_cast<long long>(s.poolRows), static_cast<long long>(s.poolColumns));
        for (std::size_t i = 0; i < std::min<std::size_t>(5, s.topObs.size()); ++i)
            std::printf("  (%lld, %lld) %.3g", static_cast<long long>(s.topObs[i].row),
                        static_cast<long long>(s.topObs[i].column), s.topObs[i].value);
        std::cout << "\n";
    }
}

void printBlock(const core::BlockDiagnostics& d, const std::map<std::string, double>& metrics)
{
    std::cout << "block " << d.block << "\n";
    printMetrics(metrics);
    std::cout << "output histogram  " << describeHistogram(d.output) << "\n";
    if (d.loss) {
        std::printf("training loss     %zu steps (%lld per epoch), first → last epoch mean:", d.loss->steps.size(),
                    static_cast<long long>(d.loss->stepsPerEpoch));
        for (std::size_t t = 0; t <= d.loss->terms.size(); ++t)
            std::printf("  %s %.5g → %.5g", t < d.loss->terms.size() ? d.loss->terms[t].c_str() : "total",
                        d.loss->epochMean(0, t), d.loss->epochMean(-1, t));
        std::cout << "\n";
    }
    std::cout << "projected SW per direction (W1, W2):\n";
    for (std::size_t k = 0; k < d.w1.size(); ++k)
        std::printf("  %3zu  %.5f  %.5f\n", k, d.w1[k], d.w2[k]);
}

void printOverview(const core::DiagnosticsReader& reader,
                   const std::map<std::string, std::map<std::string, double>>& table)
{
    const auto value = [&](const std::string& layer, const char* metric) {
        const auto l = table.find(layer);
        if (l == table.end() || !l->second.count(metric))
            return std::string("-");
        char text[32];
        std::snprintf(text, sizeof text, "%.4g", l->second.at(metric));
        return std::string(text);
    };
    std::printf("%-40s %10s %10s %10s %10s %10s\n", "linear", "rel_error", "input_kl", "qsur_in", "qsur_in_q",
                "saliency");
    for (const auto& layer : reader.linearLayers())
        std::printf("%-40s %10s %10s %10s %10s %10s\n", layer.c_str(), value(layer, "rel_error").c_str(),
                    value(layer, "input_kl").c_str(), value(layer, "qsur_input_fp").c_str(),
                    value(layer, "qsur_input_quantized").c_str(), value(layer, "saliency_mean").c_str());
    std::printf("\n%-40s %10s %10s %10s %10s %10s\n", "block output", "sw1", "sw2", "out_kl", "cosine", "sqnr_db");
    for (const auto& block : reader.blocks())
        std::printf("%-40s %10s %10s %10s %10s %10s\n", block.c_str(), value(block, "sw1").c_str(),
                    value(block, "sw2").c_str(), value(block, "out_kl").c_str(), value(block, "out_cosine").c_str(),
                    value(block, "out_sqnr_db").c_str());
}

std::string histogramCsv(const core::HistogramPair& h)
{
    std::ostringstream csv;
    csv << "bin_lo,bin_hi,fp,quantized\n";
    const double width = (h.hi - h.lo) / static_cast<double>(h.fp.size());
    for (std::size_t b = 0; b < h.fp.size(); ++b)
        csv << h.lo + width * static_cast<double>(b) << "," << h.lo + width * static_cast<double>(b + 1) << ","
            << h.fp[b] << "," << h.quantized[b] << "\n";
    csv << "underflow,," << h.fpOutside[0] << "," << h.quantizedOutside[0] << "\n";
    csv << "overflow,," << h.fpOutside[1] << "," << h.quantizedOutside[1] << "\n";
    return csv.str();
}

void writeCsv(const core::Workspace& workspace, const core::DiagnosticsReader& reader, std::int64_t runId,
              const std::string& dir)
{
    namespace fs = std::filesystem;
    fs::create_directories(dir);
    std::ostringstream metrics;
    metrics.precision(17);
    metrics << "layer,block,metric,value\n";
    for (const auto& m : workspace.catalog().layerMetrics(runId))
        metrics << m.layer << "," << m.block << "," << m.metric << ","
                << (std::isfinite(m.value) ? std::to_string(m.value) : std::string()) << "\n";
    core::writeFileAtomically((fs::path(dir) / "metrics.csv").string(), metrics.str());
    for (const auto& layer : reader.linearLayers()) {
        const core::LinearDiagnostics d = reader.linear(layer);
        core::writeFileAtomically((fs::path(dir) / (layer + ".input_hist.csv")).string(), histogramCsv(d.input));
        core::writeFileAtomically((fs::path(dir) / (layer + ".weight_hist.csv")).string(), histogramCsv(d.weight));
        std::ostringstream channels;
        channels << "channel,fp_absmax,fp_mean,fp_std,quantized_absmax,quantized_mean,quantized_std\n";
        for (std::size_t c = 0; c < d.channels[0].size(); ++c) {
            channels << c;
            for (const auto& column : d.channels)
                channels << "," << column[c];
            channels << "\n";
        }
        core::writeFileAtomically((fs::path(dir) / (layer + ".channels.csv")).string(), channels.str());
    }
    for (const auto& block : reader.blocks()) {
        const core::BlockDiagnostics d = reader.block(block);
        core::writeFileAtomically((fs::path(dir) / (block + ".output_hist.csv")).string(), histogramCsv(d.output));
        std::ostringstream sw;
        sw << "direction,w1,w2\n";
        for (std::size_t k = 0; k < d.w1.size(); ++k)
            sw << k << "," << d.w1[k] << "," << d.w2[k] << "\n";
        core::writeFileAtomically((fs::path(dir) / (block + ".sw.csv")).string(), sw.str());
        if (d.loss) {
            std::ostringstream loss;
            loss << "step,epoch";
            for (const auto& term : d.loss->terms)
                loss << "," << term;
            loss << ",total\n";
            const std::int64_t perEpoch = std::max<std::int64_t>(1, d.loss->stepsPerEpoch);
            for (std::size_t step = 0; step < d.loss->steps.size(); ++step) {
                loss << step + 1 << "," << static_cast<std::int64_t>(step) / perEpoch + 1;
                for (const double value : d.loss->steps[step])
                    loss << "," << value;
                loss << "\n";
            }
            core::writeFileAtomically((fs::path(dir) / (block + ".loss.csv")).string(), loss.str());
        }
    }
}

} // namespace

int runDiag(const core::Workspace& workspace, const DiagOptions& options)
{
    workspace.catalog().run(options.runId); // "run N not found" before touching files
    const core::DiagnosticsReader reader(workspace.artifactPath(options.runId));
    const auto table = layerMetricTable(workspace, options.runId);
    const auto metricsOf = [&](const std::string& layer) {
        const auto it = table.find(layer);
        return it == table.end() ? std::map<std::string, double>{} : it->second;
    };
    if (!options.csvDir.empty()) {
        // Staged beside the target and moved in at the end: an error leaves no partial set of files.
        namespace fs = std::filesystem;
        const fs::path target(options.csvDir);
        const fs::path staging = target.string() + ".partial";
        fs::remove_all(staging);
        try {
            writeCsv(workspace, reader, options.runId, staging.string());
            if (!fs::exists(target)) {
                fs::rename(staging, target);
            } else {
                for (const auto& entry : fs::directory_iterator(staging))
                    if (fs::is_directory(target / entry.path().filename()))
                        throw core::Error((target / entry.path().filename()).string() +
                                          ": is a directory; the CSV file of that name cannot be written");
                for (const auto& entry : fs::directory_iterator(staging))
                    fs::rename(entry.path(), target / entry.path().filename());
                fs::remove(staging);
            }
        } catch (...) {
            std::error_code ignored;
            fs::remove_all(staging, ignored);
            throw;
        }
        if (!options.json)
            std::cout << "wrote CSV files to " << options.csvDir << "\n";
        return 0;
    }
    if (options.layer.empty()) {
        if (options.json)
            std::cout << json{{"linears", reader.linearLayers()}, {"blocks", reader.blocks()}}.dump(2) << "\n";
        else
            printOverview(reader, table);
        return 0;
    }
    if (reader.hasBlock(options.layer)) {
        const core::BlockDiagnostics d = reader.block(options.layer);
        if (options.json)
            std::cout << blockJson(d, metricsOf(options.layer)).dump() << "\n";
        else
            printBlock(d, metricsOf(options.layer));
        return 0;
    }
    const core::LinearDiagnostics d = reader.linear(options.layer);
    if (options.json)
        std::cout << linearJson(d, metricsOf(options.layer)).dump() << "\n";
    else
        printLinear(d, metricsOf(options.layer));
    return 0;
}

} // namespace app
