#include "config/run_config.h"

#include "config/loss_section.h"
#include "config/method_descriptor.h"
#include "config/method_section.h"
#include "config/object_reader.h"
#include "config/stream_quant_sections.h"

#include "util/error.h"
#include "util/strict_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace core {
namespace {

using config_detail::json;
using config_detail::ObjectReader;
using config_detail::readSection;
using config_detail::require;

constexpr std::int64_t kMaxSamples = 100000;
constexpr std::int64_t kMaxSeqLen = 1 << 20;

void readSections(ObjectReader& parent, RunConfig& config, const std::string& source)
{
    readSection(parent, "weights", source, [&](ObjectReader& reader) {
        reader.readInteger("bits", config.weights.bits);
        reader.readInteger("group_size", config.weights.groupSize);
        reader.readBool("symmetric", config.weights.symmetric);
    });
    readSection(parent, "calibration", source, [&](ObjectReader& reader) {
        reader.readString("text", config.calibration.text);
        reader.readInteger("samples", config.calibration.samples);
        reader.readInteger("seq_len", config.calibration.seqLen);
        reader.readInteger("seed", config.calibration.seed);
        reader.readInteger("batch_size", config.calibration.batchSize);
    });
    readSection(parent, "eval", source, [&](ObjectReader& reader) {
        reader.readStrings("texts", config.eval.texts);
        reader.readInteger("seq_len", config.eval.seqLen);
        reader.readInteger("max_windows", config.eval.maxWindows);
        reader.readString("bos", config.eval.bos);
        if (const json* tasks = reader.find("tasks")) {
            if (!tasks->is_array())
                reader.fail("eval.tasks must be an array of {name, file, labels, limit}");
            config.eval.tasks.clear();
            for (std::size_t i = 0; i < tasks->size(); ++i) {
                ObjectReader task((*tasks)[i], "eval.tasks[" + std::to_string(i) + "]", source);
                EvalTaskConfig& entry = config.eval.tasks.emplace_back();
                task.readString("name", entry.name);
                task.readString("file", entry.file);
                task.readString("labels", entry.labels);
                task.readInteger("limit", entry.limit);
                task.rejectUnknownKeys();
            }
        }
    });
    readSection(parent, "diagnostics", source, [&](ObjectReader& reader) {
        DiagnosticsConfig& d = config.diagnostics;
        reader.readBool("enabled", d.enabled);
        reader.readInteger("histogram_bins", d.histogramBins);
        reader.readInteger("projections", d.projections);
        reader.readInteger("projection_seed", d.projectionSeed);
        reader.readInteger("quantile_levels", d.quantileLevels);
        reader.readBool("qsur", d.qsur);
        reader.readInteger("qsur_tokens", d.qsurTokens);
        reader.readBool("saliency", d.saliency);
        reader.readInteger("saliency_top_k", d.saliencyTopK);
        reader.readInteger("saliency_map_size", d.saliencyMapSize);
    });
    readSection(parent, "adaptation", source, [&](ObjectReader& reader) {
        AdaptationConfig& a = config.adaptation.emplace();
        reader.readString("text", a.text);
        reader.readInteger("epochs", a.epochs);
        reader.readNumber("let_lr", a.letLearningRate);
        reader.readNumber("lwc_lr", a.lwcLearningRate);
        reader.readString("inputs", a.inputs);
        reader.readBool("quantized_activations", a.quantizedActivations);
        reader.readInteger("max_windows", a.maxWindows);
    });
}

void validateAdaptation(const AdaptationConfig& a, const std::string& source)
{
    require(!a.text.empty(), source, "adaptation.text is required (the text to adapt to)");
    require(a.epochs >= 1 && a.epochs <= 10000, source,
            "adaptation.epochs must be in 1..10000, got " + std::to_string(a.epochs));
    require(a.letLearningRate > 0 && a.letLearningRate <= 10, source,
            "adaptation.let_lr must be in (0, 10], got " + std::to_string(a.letLearningRate));
    require(a.lwcLearningRate > 0 && a.lwcLearningRate <= 10, source,
            "adaptation.lwc_lr must be in (0, 10], got " + std::to_string(a.lwcLearningRate));
    require(a.inputs == "propagated" || a.inputs == "embedding", source,
            "adaptation.inputs must be propagated or embedding, got '" + a.inputs + "'");
    require(a.maxWindows >= 0, source,
            "adaptation.max_windows must be >= 0 (0 = all), got " + std::to_string(a.maxWindows));
}

} // namespace

std::vector<std::string> runMethodNames()
{
    std::vector<std::string> names;
    for (const MethodDescriptor* descriptor : methodDescriptors())
        names.push_back(descriptor->name);
    return names;
}

void validateRunConfig(const RunConfig& config, const std::string& source)
{
    require(!config.method.empty(), source, "'method' is required (one of: " + methodNameList() + ")");
    require(findMethodDescriptor(config.method) != nullptr, source,
            "method '" + config.method + "' is unknown (known: " + methodNameList() + ")");
    // A control character (a newline, an escape sequence) in a name would break every table
    // that lists runs, and could rewrite the user's terminal.
    const auto control = std::find_if(config.name.begin(), config.name.end(),
                                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
    require(control == config.name.end(), source,
            "name contains the control character 0x" +
                (control == config.name.end() ? std::string()
                                              : std::string(1, "0123456789abcdef"[(*control >> 4) & 0xf]) +
                                                    std::string(1, "0123456789abcdef"[*control & 0xf])) +
                " (names are one line of printable text)");
    const WeightsConfig& w = config.weights;
    require(w.bits >= 1 && w.bits <= 8, source, "weights.bits must be in 1..8, got " + std::to_string(w.bits));
    require(w.groupSize == -1 || w.groupSize >= 1, source,
            "weights.group_size must be -1 (per output channel) or >= 1, got " + std::to_string(w.groupSize));
    const CalibrationDataConfig& c = config.calibration;
    require(c.samples >= 1 && c.samples <= kMaxSamples, source,
            "calibration.samples must be in 1.." + std::to_string(kMaxSamples) + ", got " + std::to_string(c.samples));
    // One token is no sequence: a window needs a token to predict and attention something to mix.
    require(c.seqLen == 0 || (c.seqLen >= 2 && c.seqLen <= kMaxSeqLen), source,
            "calibration.seq_len must be in 2.." + std::to_string(kMaxSeqLen) +
                " (or 0 for the model's context), got " + std::to_string(c.seqLen));
    require(c.batchSize >= 1 && c.batchSize <= 4096, source,
            "calibration.batch_size must be in 1..4096, got " + std::to_string(c.batchSize));
    require(config.eval.seqLen == 0 || (config.eval.seqLen >= 2 && config.eval.seqLen <= kMaxSeqLen), source,
            "eval.seq_len must be in 2.." + std::to_string(kMaxSeqLen) + " (or 0 for the model's context), got " +
                std::to_string(config.eval.seqLen));
    require(config.eval.maxWindows >= 0, source,
            "eval.max_windows must be >= 0 (0 = all), got " + std::to_string(config.eval.maxWindows));
    for (const auto& text : config.eval.texts)
        require(!text.empty(), source, "eval.texts contains an empty path");
    require(config.eval.bos == "tokenizer" || config.eval.bos == "never" || config.eval.bos == "always", source,
            "eval.bos must be tokenizer, never or always, got '" + config.eval.bos + "'");
    for (std::size_t i = 0; i < config.eval.tasks.size(); ++i) {
        const EvalTaskConfig& task = config.eval.tasks[i];
        const std::string key = "eval.tasks[" + std::to_string(i) + "]";
        require(!task.name.empty(), source, key + ".name is required");
        require(task.limit >= 0, source, key + ".limit must be >= 0 (0 = all), got " + std::to_string(task.limit));
        for (std::size_t j = 0; j < i; ++j)
            require(config.eval.tasks[j].name != task.name, source,
                    "eval.tasks has two tasks named '" + task.name + "' (results are stored by task name)");
    }
    const DiagnosticsConfig& d = config.diagnostics;
    require(d.histogramBins >= 8 && d.histogramBins <= 4096, source,
            "diagnostics.histogram_bins must be in 8..4096, got " + std::to_string(d.histogramBins));
    require(d.projections >= 1 && d.projections <= 1024, source,
            "diagnostics.projections must be in 1..1024, got " + std::to_string(d.projections));
    require(d.quantileLevels >= 2 && d.quantileLevels <= 4096, source,
            "diagnostics.quantile_levels must be in 2..4096, got " + std::to_string(d.quantileLevels));
    require(d.qsurTokens >= 0, source,
            "diagnostics.qsur_tokens must be >= 0 (0 = every calibration token), got " + std::to_string(d.qsurTokens));
    require(d.saliencyTopK >= 0 && d.saliencyTopK <= 100000, source,
            "diagnostics.saliency_top_k must be in 0..100000, got " + std::to_string(d.saliencyTopK));
    require(d.saliencyMapSize >= 8 && d.saliencyMapSize <= 256, source,
            "diagnostics.saliency_map_size must be in 8..256, got " + std::to_string(d.saliencyMapSize));
    config_detail::validateStreamQuantSections(config, source);
    config_detail::validateMethodSection(config, source);
    config_detail::validateLossSection(config, source);
    if (config.adaptation)
        validateAdaptation(*config.adaptation, source);
}

RunConfig parseRunConfig(const std::string& jsonText, const std::string& source)
{
    const json document = parseStrictJson(jsonText, source);
    RunConfig config;
    ObjectReader reader(document, "", source);
    reader.readString("method", config.method);
    reader.readString("name", config.name);
    reader.readString("model", config.model);
    readSections(reader, config, source);
    config_detail::readStreamQuantSections(reader, config);
    config_detail::readMethodSection(reader, config);
    config_detail::readLossSection(reader, config);
    reader.rejectUnknownKeys();
    validateRunConfig(config, source);
    return config;
}

std::string runConfigToJson(const RunConfig& config, int indent)
{
    json document = json::object();
    document["name"] = config.name;
    document["model"] = config.model;
    document["method"] = config.method;
    document["weights"] = {{"bits", config.weights.bits},
                           {"group_size", config.weights.groupSize},
                           {"symmetric", config.weights.symmetric}};
    document["calibration"] = {{"text", config.calibration.text},
                               {"samples", config.calibration.samples},
                               {"seq_len", config.calibration.seqLen},
                               {"seed", config.calibration.seed},
                               {"batch_size", config.calibration.batchSize}};
    json tasks = json::array();
    for (const EvalTaskConfig& task : config.eval.tasks)
        tasks.push_back({{"name", task.name}, {"file", task.file}, {"labels", task.labels}, {"limit", task.limit}});
    document["eval"] = {{"texts", config.eval.texts},
                        {"seq_len", config.eval.seqLen},
                        {"max_windows", config.eval.maxWindows},
                        {"tasks", tasks},
                        {"bos", config.eval.bos}};
    const DiagnosticsConfig& d = config.diagnostics;
    document["diagnostics"] = {{"enabled", d.enabled},
                               {"histogram_bins", d.histogramBins},
                               {"projections", d.projections},
                               {"projection_seed", d.projectionSeed},
                               {"quantile_levels", d.quantileLevels},
                               {"qsur", d.qsur},
                               {"qsur_tokens", d.qsurTokens},
                               {"saliency", d.saliency},
                               {"saliency_top_k", d.saliencyTopK},
                               {"saliency_map_size", d.saliencyMapSize}};
    config_detail::writeStreamQuantSections(config, document);
    config_detail::writeMethodSection(config, document);
    config_detail::writeLossSection(config, document);
    if (const auto& a = config.adaptation)
        document["adaptation"] = {{"text", a->text},
                                  {"epochs", a->epochs},
                                  {"let_lr", a->letLearningRate},
                                  {"lwc_lr", a->lwcLearningRate},
                                  {"inputs", a->inputs},
                                  {"quantized_activations", a->quantizedActivations},
                                  {"max_windows", a->maxWindows}};
    return document.dump(indent);
}

RunConfig defaultRunConfig(const std::string& method)
{
    RunConfig config;
    config.method = method;
    if (const MethodDescriptor* descriptor = findMethodDescriptor(method))
        config.options = defaultOptions(descriptor->options);
    config.loss = config_detail::defaultLoss(method);
    return config;
}

std::string runDisplayName(const RunConfig& config)
{
    if (!config.name.empty())
        return config.name;
    std::string name = config.method + " w" + std::to_string(config.weights.bits);
    name += config.weights.groupSize > 0 ? "g" + std::to_string(config.weights.groupSize) : " per-channel";
    if (config.weights.symmetric)
        name += " sym";
    if (config.activations.enabled() || config.kv.enabled())
        name += " " + bitsLabel(config.weights.bits, config.activations, config.kv);
    const MethodDescriptor* descriptor = findMethodDescriptor(config.method);
    if (descriptor != nullptr && descriptor->nameSuffix) {
        const std::string suffix = descriptor->nameSuffix(config.options);
        if (!suffix.empty())
            name += " " + suffix;
    }
    const std::string loss = config_detail::lossLabel(config);
    if (!loss.empty())
        name += " " + loss;
    return name;
}

} // namespace core
