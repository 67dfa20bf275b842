#include "cli/run_commands.h"

#include "eval/zero_shot_task.h"

#include "cli/cli_common.h"
#include "cli/diag_command.h"
#include "cli/model_commands.h"
#include "cli/progress_printer.h"
#include "cli/run_tables.h"
#include "cli/seed_table.h"
#include "config/config_keys.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "config/run_presets.h"
#include "jobs/calibrate_job.h"
#include "jobs/dump_job.h"
#include "jobs/export_job.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/strict_json.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace app {
namespace {

using nlohmann::json;

// "mse:0.9,sw:0.1" → [{"type": "mse", "weight": 0.9}, {"type": "sw", "weight": 0.1, ...}]; the
// terms' other options at their defaults (a config file sets them).
json lossTerms(const std::string& spec)
{
    try {
        return json::parse(core::lossTermsToJson(core::parseLossShorthand(spec)));
    } catch (const core::Error& e) {
        throw core::Error(std::string("--") + e.what());
    }
}

// --set KEY=VALUE: KEY is a config path ("tesseraq.lwc_epochs", "weights.bits"), VALUE JSON
// (3, 0.01, true, [0.5, 0.1], "text") or, when it does not read as JSON, a string.
void applyOverride(json& document, const std::string& assignment)
{
    const std::size_t equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0)
        throw core::Error("--set " + assignment + ": expected KEY=VALUE, e.g. --set tesseraq.lwc_epochs=5");
    const std::string key = assignment.substr(0, equals);
    const std::string text = assignment.substr(equals + 1);
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded())
        value = text;
    try {
        core::setConfigKey(document, key, value);
    } catch (const core::Error& e) {
        throw core::Error("--set " + assignment + ": " + e.what());
    }
}

// The config file (or an empty document) with every shorthand flag and --set written over
// it, so one parser validates all of them and errors name the config key.
core::RunConfig buildConfig(const CalibrateOptions& o)
{
    json document = json::object();
    std::string source = "command line";
    if (o.preset)
        document = json::parse(core::runPreset(*o.preset).json);
    if (!o.configPath.empty()) {
        source = o.configPath;
        const json file = core::parseStrictJson(core::readTextFile(o.configPath), o.configPath);
        if (!file.is_object())
            throw core::Error(o.configPath + ": the document must be a JSON object");
        document.merge_patch(file);
    }
    const json fromConfig = document;
    const auto section = [&](const char* name) -> json& {
        if (!document.contains(name))
            document[name] = json::object();
        return document[name];
    };
    if (o.name)
        document["name"] = *o.name;
    if (o.model)
        document["model"] = *o.model;
    if (o.method)
        document["method"] = *o.method;
    if (o.bits)
        section("weights")["bits"] = *o.bits;
    if (o.groupSize)
        section("weights")["group_size"] = *o.groupSize;
    if (o.symmetric)
        section("weights")["symmetric"] = true;
    if (o.activationBits)
        section("activations")["bits"] = *o.activationBits;
    if (o.kvBits)
        section("kv")["bits"] = *o.kvBits;
    if (o.calibrationText)
        section("calibration")["text"] = *o.calibrationText;
    if (o.samples)
        section("calibration")["samples"] = *o.samples;
    if (o.seqLen)
        section("calibration")["seq_len"] = *o.seqLen;
    if (o.seed)
        section("calibration")["seed"] = *o.seed;
    if (o.batchSize)
        section("calibration")["batch_size"] = *o.batchSize;
    if (!o.evalTexts.empty())
        section("eval")["texts"] = o.evalTexts;
    if (!o.tasks.empty()) {
        json tasks = json::array();
        for (const std::string& task : o.tasks) {
            if (task == "bundled") {
                for (const std::string& name : core::bundledTaskNames())
                    tasks.push_back({{"name", name}});
                continue;
            }
            const auto equals = task.find('=');
            if (equals == std::string::npos)
                tasks.push_back({{"name", task}});
            else
                tasks.push_back({{"name", task.substr(0, equals)}, {"file", task.substr(equals + 1)}});
        }
        section("eval")["tasks"] = tasks;
    }
    if (o.evalSeqLen)
        section("eval")["seq_len"] = *o.evalSeqLen;
    if (o.evalMaxWindows)
        section("eval")["max_windows"] = *o.evalMaxWindows;
    const std::string method = document.value("method", std::string("rtn"));
    if (o.actOrder)
        section(method == "spqr" ? "spqr" : "gptq")["act_order"] = true;
    if (o.hessian)
        section(method.c_str())["hessian"] = *o.hessian;
    // --epochs is the block-training length of the learning methods: their "epochs" option
    // (TesseraQ: its LWC stage's lwc_epochs).
    if (o.epochs) {
        const core::MethodDescriptor* descriptor = core::findMethodDescriptor(method);
        const bool ownEpochs =
            descriptor != nullptr && std::any_of(descriptor->options.begin(), descriptor->options.end(),
                                                 [](const core::OptionSpec& option) { return option.key == "epochs"; });
        if (method == "tesseraq")
            section("tesseraq")["lwc_epochs"] = *o.epochs;
        else
            section(ownEpochs ? method.c_str() : "omniquant")["epochs"] = *o.epochs;
    }
    if (o.iterations)
        section("tesseraq")["iterations"] = *o.iterations;
    if (o.augLoss)
        section("omniquant")["aug_loss"] = true;
    if (o.let)
        section("omniquant")["let"] = true;
    if (o.loss)
        document["loss"] = lossTerms(*o.loss);
    for (const std::string& assignment : o.overrides)
        applyOverride(document, assignment);
    try {
        return core::parseRunConfig(document.dump(), source);
    } catch (const core::Error&) {
        if (o.configPath.empty() || document == fromConfig)
            throw;
        // Blame the flags only when the file alone is fine.
        core::parseRunConfig(fromConfig.dump(), o.configPath);
        return core::parseRunConfig(document.dump(), "the command-line flags (over " + o.configPath + ")");
    }
}

json resultJson(const core::CalibrationJobResult& result)
{
    json perplexity = json::object(), fp = json::object();
    for (const auto& d : result.datasets) {
        perplexity[d.dataset] = jsonNumber(d.perplexity);
        fp[d.dataset] = jsonNumber(d.fpPerplexity);
    }
    json layers = json::array();
    for (const auto& l : result.layers)
        layers.push_back({{"name", l.name},
                          {"block", l.block},
                          {"rel_error", jsonNumber(l.relativeError)},
                          {"sqnr_db", jsonNumber(l.sqnrDb)},
                          {"effective_bits", jsonNumber(l.effectiveBits)},
                          {"seconds", jsonNumber(l.seconds)}});
    json tasks = json::array();
    for (const auto& score : result.tasks) {
        json row = {{"task", score.task}, {"n", score.documents}};
        for (const auto& metric : score.metrics) {
            row[metric.name] = jsonNumber(metric.value);
            row[metric.name + "_stderr"] = jsonNumber(metric.standardError);
        }
        tasks.push_back(row);
    }
    return {{"run_id", result.runId},
            {"name", result.name},
            {"status", "finished"},
            {"perplexity", perplexity},
            {"tasks", tasks},
            {"fp_perplexity", fp},
            {"effective_bits", jsonNumber(result.effectiveBits)},
            {"calibration_offsets", result.calibrationOffsets},
            {"calibration_seconds", result.calibrationSeconds},
            {"seconds", result.seconds},
            {"config", json::parse(result.configJson)},
            {"layers", layers}};
}

void printResult(const core::CalibrationJobResult& result)
{
    std::printf("run %lld: %s  (calibration %.1f s, total %.1f s)\n", static_cast<long long>(result.runId),
                result.name.c_str(), result.calibrationSeconds, result.seconds);
    std::printf("%-16s %12s %12s %9s\n", "dataset", "perplexity", "fp", "change");
    for (const auto& d : result.datasets)
        std::printf("%-16s %12.3f %12.3f %+8.2f%%\n", d.dataset.c_str(), d.perplexity, d.fpPerplexity,
                    100.0 * (d.perplexity / d.fpPerplexity - 1.0));
    for (const auto& score : result.tasks) {
        std::printf("%-22s", score.task.c_str());
        for (const auto& metric : score.metrics)
            if (metric.reported)
                std::printf("  %s %.4f ± %.4f", metric.name.c_str(), metric.value, metric.standardError);
        std::printf("  (n %lld)\n", static_cast<long long>(score.documents));
    }
    if (result.layers.empty())
        return;
    double sum = 0.0;
    const core::LayerMetrics* worst = &result.layers.front();
    for (const auto& l : result.layers) {
        sum += l.relativeError;
        if (l.relativeError > worst->relativeError)
            worst = &l;
    }
    std::printf("layers: mean relative output error %.3e over %zu Linears; worst %s (%.3e)\n",
                sum / static_cast<double>(result.layers.size()), result.layers.size(), worst->name.c_str(),
                worst->relativeError);
    if (!std::isnan(result.effectiveBits))
        std::printf("effective bits per weight: %.4f\n", result.effectiveBits);
}

// The commands that only read open the workspace with openWorkspaceForReading: a read-only or
// full workspace can still be listed, compared and exported from (issue 21).
core::ReadableWorkspace openForReading(const std::string& directory)
{
    core::ReadableWorkspace opened = core::openWorkspaceForReading(directory);
    if (!opened.warning.empty())
        std::cerr << "quantscope: warning: " << opened.warning << "\n";
    return opened;
}

int commandCalibrate(const RunCommandOptions& options, const CommonOptions& common)
{
    const core::RunConfig config = buildConfig(options.calibrate);
    core::Workspace workspace(options.workspace);
    core::CancelToken cancel;
    core::CalibrationJobResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        const auto announce = [&](std::int64_t id) {
            if (!common.quiet)
                std::fprintf(stderr, "run %lld in %s\n", static_cast<long long>(id), workspace.directory().c_str());
        };
        result = core::runCalibrationJob(workspace, config, std::ref(progress), cancel, announce);
    }
    if (common.json)
        std::cout << resultJson(result).dump(2) << "\n";
    else
        printResult(result);
    return 0;
}

// `quantscope resume ID`: the run continues from its last checkpointed block (issue 20).
int commandResume(const RunCommandOptions& options, const CommonOptions& common)
{
    core::Workspace workspace(options.workspace);
    const std::int64_t runId = options.runIds.front();
    core::CancelToken cancel;
    core::CalibrationJobResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        if (!common.quiet) {
            const std::int64_t blocks = core::checkpointedBlocks(workspace, runId);
            std::fprintf(stderr, "run %lld in %s: resuming %s\n", static_cast<long long>(runId),
                         workspace.directory().c_str(),
                         blocks > 0 ? ("after block " + std::to_string(blocks)).c_str()
                                    : "from the start (no block was checkpointed)");
        }
        result = core::resumeCalibrationJob(workspace, runId, std::ref(progress), cancel);
    }
    if (common.json)
        std::cout << resultJson(result).dump(2) << "\n";
    else
        printResult(result);
    return 0;
}

int commandExport(const RunCommandOptions& options, const CommonOptions& common)
{
    const core::ReadableWorkspace opened = openForReading(options.workspace);
    const core::Workspace& workspace = opened.workspace;
    core::CancelToken cancel;
    core::ExportResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        result = core::exportRun(workspace, options.runIds.front(), options.outDir, std::ref(progress), cancel);
    }
    if (common.json)
        std::cout << json{{"run_id", options.runIds.front()},
                          {"directory", result.directory},
                          {"tensors", result.tensors},
                          {"quantized_layers", result.quantizedLayers}}
                         .dump(2)
                  << "\n";
    else
        std::cout << "exported run " << options.runIds.front() << " to " << result.directory << " (" << result.tensors
                  << " tensors, " << result.quantizedLayers << " quantized Linears)\n";
    return 0;
}

} // namespace

RunCommands::RunCommands(CLI::App& cli, CommonOptions& common) : m_common(common)
{
    m_options.workspace = "";
    const auto addCommon = [&](CLI::App* command) {
        command->add_option(
            "--workspace", m_options.workspace,
            "Workspace directory (default: $QUANTSCOPE_WORKSPACE or ~/.local/share/quantscope/workspace)");
        addCommonOptions(command, m_common);
    };
    CalibrateOptions& c = m_options.calibrate;
    m_calibrate = cli.add_subcommand("calibrate", "Quantize a model with a calibration method and record the run");
    m_calibrate->add_option("--config", c.configPath, "Run config JSON (README: 'Run config'); flags override it")
        ->check(CLI::ExistingFile);
    m_calibrate->add_option("--preset", c.preset,
                            "Start from a named configuration: " + core::runPresetNameList() +
                                " (--config and the flags override it)");
    m_calibrate->add_option("--name", c.name, "Run name (default: method and bits)");
    m_calibrate->add_option("--model", c.model, "Hugging Face model directory (default: the bundled brown-llama)");
    m_calibrate->add_option("--method", c.method,
                            "Calibration method: " + core::methodNameList() +
                                " (`quantscope methods` lists their options)");
    m_calibrate->add_option("--wbits", c.bits, "Weight bits (1..8; billm binarizes: 1)");
    m_calibrate->add_option("--group", c.groupSize, "Group size along input channels (-1: per output channel)");
    m_calibrate->add_flag("--sym", c.symmetric, "Symmetric weight grid");
    m_calibrate->add_option("--abits", c.activationBits,
                            "Activation bits of every block Linear's input, per token (2..8; 16: off), e.g. W4A4: "
                            "--wbits 4 --abits 4");
    m_calibrate->add_option("--kvbits", c.kvBits,
                            "KV-cache bits: K after RoPE and V, per head (2..8; 16: off); --set kv.group_size=...");
    m_calibrate->add_flag("--act-order", c.actOrder, "GPTQ, SpQR: quantize columns by decreasing Hessian diagonal");
    m_calibrate->add_option("--hessian", c.hessian,
                            "GPTQ, SpQR, BiLLM: the Hessian to quantize with: xtx (2XXᵀ), oac (output-adaptive), "
                            "blend; --set METHOD.oac_schedule=one_shot for OAC's cheaper schedule");
    m_calibrate->add_option("--loss", c.loss,
                            "Block-reconstruction loss terms TYPE[:WEIGHT],... (omniquant, tesseraq; "
                            "types mse, l2, sw, nlc, kl_top), e.g. mse:0.9,sw:0.1");
    m_calibrate->add_option("--epochs", c.epochs,
                            "OmniQuant, PTQ1.61, LRQuant: passes over the calibration windows per block (TesseraQ: of "
                            "its LWC stage)");
    m_calibrate->add_option("--iterations", c.iterations, "TesseraQ: optimizer steps per rounding stage");
    m_calibrate->add_flag("--aug-loss", c.augLoss, "OmniQuant: also match the FP block on quantized inputs (W2)");
    m_calibrate->add_flag("--let", c.let, "OmniQuant: learnable equivalent transformation (LLaMA)");
    m_calibrate->add_option("--calib-text", c.calibrationText,
                            "Calibration text file (default: bundled Brown excerpt)");
    m_calibrate->add_option("--samples", c.samples, "Calibration windows");
    m_calibrate->add_option("--seq-len", c.seqLen, "Tokens per calibration window (default: model context)");
    m_calibrate->add_option("--seed", c.seed, "Seed of the window offsets");
    m_calibrate->add_option("--batch-size", c.batchSize, "Windows per forward pass");
    m_calibrate->add_option("--eval-text", c.evalTexts,
                            "Evaluation text file(s) (default: bundled Brown and KJV tests)");
    m_calibrate->add_option("--task", c.tasks,
                            "Zero-shot task scored after the perplexities: NAME (a bundled task), NAME=FILE, or "
                            "'bundled' for both bundled tasks; repeat for several (`quantscope eval --list-tasks`)");
    m_calibrate->add_option("--eval-seq-len", c.evalSeqLen, "Evaluation window length (default: model context)");
    m_calibrate->add_option("--eval-max-windows", c.evalMaxWindows, "Evaluate at most K windows per text (0: all)");
    m_calibrate->add_option(
        "--set", c.overrides,
        "Any run config key, KEY=VALUE (repeatable, applied last), e.g. --set tesseraq.lwc_epochs=5 "
        "--set gptq.percdamp=0.1");
    addCommon(m_calibrate);

    m_resume = cli.add_subcommand("resume", "Continue an interrupted calibration from its last finished block");
    m_resume->add_option("id", m_options.runIds, "Run id")->required()->expected(1);
    addCommon(m_resume);

    m_runs = cli.add_subcommand("runs", "List, show or delete the runs of a workspace");
    m_runs->require_subcommand(1);
    m_runsList = m_runs->add_subcommand("list", "Every run with status and perplexities");
    addCommon(m_runsList);
    m_runsShow = m_runs->add_subcommand("show", "One run: config, perplexities, per-layer metrics");
    m_runsShow->add_option("id", m_options.runIds, "Run id")->required()->expected(1);
    addCommon(m_runsShow);
    m_runsDelete = m_runs->add_subcommand("delete", "Delete a run and its files");
    m_runsDelete->add_option("id", m_options.runIds, "Run id")->required()->expected(1);
    addCommon(m_runsDelete);

    m_compare =
        cli.add_subcommand("compare", "Runs side by side: perplexities and a per-layer metric, with differences");
    m_compare->add_option("ids", m_options.runIds, "Two or more run ids (with --group-seeds: any; none = all)")
        ->expected(0, 1000);
    m_compare->add_flag("--group-seeds", m_options.groupSeeds,
                        "Runs that differ only in calibration.seed as one row: mean ± std of every metric, n "
                        "(a Markdown table)");
    m_compare->add_option("--metric", m_options.metric, "Per-layer metric to compare (rel_error, sqnr_db, seconds)");
    addCommon(m_compare);

    m_export = cli.add_subcommand("export", "Write a finished run as a Hugging Face model directory");
    m_export->add_option("id", m_options.runIds, "Run id")->required()->expected(1);
    m_export->add_option("--out", m_options.outDir, "Output directory (must not exist or be empty)")->required();
    addCommon(m_export);

    m_diag = cli.add_subcommand("diag", "A run's diagnostics: histograms, projected SW, QSUR, saliency per layer");
    m_diag->add_option("id", m_options.runIds, "Run id")->required()->expected(1);
    m_diag->add_option("--layer", m_options.layer, "Linear (model.layers.0.mlp.down_proj) or block (model.layers.0)");
    m_diag->add_option("--csv", m_options.csvDir, "Write every scalar metric and histogram as CSV files into DIR");
    addCommon(m_diag);

    m_dump = cli.add_subcommand("dump", "Write a Linear's calibration inputs (FP and quantized stream) to HDF5");
    m_dump->add_option("id", m_options.runIds, "Run id")->required()->expected(1);
    m_dump->add_option("--layer", m_options.layer, "Linear layer, e.g. model.layers.0.mlp.down_proj")->required();
    m_dump->add_option("--out", m_options.outDir, "Output HDF5 file (/fp, /quantized: float32 [tokens, channels])")
        ->required();
    addCommon(m_dump);

    m_adapt = cli.add_subcommand("adapt", "Test-time adaptation (LRQuant): re-quantize a run's last block on an "
                                          "evaluation text; recorded as a new TTA run");
    addAdaptOptions(m_adapt, m_options.adapt);
    addCommon(m_adapt);

    m_preprocess = cli.add_subcommand("preprocess", "PTQ1.61's preprocessing: LoRA on a run's quantized model, "
                                                    "merged, then the run calibrated again on it");
    addPreprocessOptions(m_preprocess, m_options.preprocess);
    addCommon(m_preprocess);
}

namespace {

int commandDump(const RunCommandOptions& options, const CommonOptions& common)
{
    const core::ReadableWorkspace opened = openForReading(options.workspace);
    const core::Workspace& workspace = opened.workspace;
    core::CancelToken cancel;
    core::DumpResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        result = core::dumpLayerInputs(workspace, options.runIds.front(), options.layer, options.outDir,
                                       std::ref(progress), cancel);
    }
    if (common.json)
        std::cout << json{{"path", result.path}, {"tokens", result.tokens}, {"channels", result.channels}}.dump(2)
                  << "\n";
    else
        std::cout << "wrote " << result.tokens << " x " << result.channels << " inputs (FP and quantized) of "
                  << options.layer << " to " << result.path << "\n";
    return 0;
}

} // namespace

std::optional<int> RunCommands::dispatch()
{
    if (m_options.workspace.empty())
        m_options.workspace = core::defaultWorkspaceDirectory();
    if (*m_calibrate)
        return commandCalibrate(m_options, m_common);
    if (*m_resume)
        return commandResume(m_options, m_common);
    if (*m_export)
        return commandExport(m_options, m_common);
    if (*m_dump)
        return commandDump(m_options, m_common);
    if (*m_adapt)
        return commandAdapt(m_options.workspace, m_options.adapt, m_common);
    if (*m_preprocess)
        return commandPreprocess(m_options.workspace, m_options.preprocess, m_common);
    if (*m_diag) {
        const core::ReadableWorkspace opened = openForReading(m_options.workspace);
        return runDiag(opened.workspace, {m_options.runIds.front(), m_options.layer, m_options.csvDir, m_common.json});
    }
    if (!*m_runs && !*m_compare)
        return std::nullopt;

    // Deleting writes; everything else here only reads.
    core::ReadableWorkspace opened = *m_runsDelete ? core::ReadableWorkspace{core::Workspace(m_options.workspace), {}}
                                                   : openForReading(m_options.workspace);
    core::Workspace& workspace = opened.workspace;
    // The JSON encoder escapes control characters itself; bytes that are not UTF-8 (a name from
    // an old store) become U+FFFD instead of aborting the listing.
    if (*m_runsList) {
        if (m_common.json)
            std::cout << runsListJson(workspace).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        else
            printRunsList(workspace);
    } else if (*m_runsShow) {
        if (m_common.json)
            std::cout << runShowJson(workspace, m_options.runIds.front()).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                      << "\n";
        else
            printRunShow(workspace, m_options.runIds.front());
    } else if (*m_runsDelete) {
        workspace.deleteRun(m_options.runIds.front());
        if (m_common.json)
            std::cout << json{{"deleted", m_options.runIds.front()}}.dump() << "\n";
        else
            std::cout << "deleted run " << m_options.runIds.front() << "\n";
    } else if (*m_compare && m_options.groupSeeds) {
        if (m_common.json)
            std::cout << seedGroupsJson(workspace, m_options.runIds).dump(2) << "\n";
        else
            std::cout << seedGroupsMarkdown(workspace, m_options.runIds);
    } else if (*m_compare) {
        if (m_options.runIds.size() < 2)
            throw core::Error("compare needs two or more run ids (or --group-seeds)");
        if (m_common.json)
            std::cout << compareJson(workspace, m_options.runIds, m_options.metric).dump(2) << "\n";
        else
            printCompare(workspace, m_options.runIds, m_options.metric);
    }
    return 0;
}

} // namespace app
