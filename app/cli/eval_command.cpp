#include "cli/eval_command.h"

#include "cli/model_commands.h"
#include "cli/progress_printer.h"
#include "eval/zero_shot_task.h"
#include "jobs/resources.h"
#include "jobs/task_eval_job.h"
#include "store/workspace.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace app {
namespace {

int commandPerplexity(core::EvalJobParams params, const std::string& model, const CommonOptions& common)
{
    params.modelDir = resolveModel(model);
    if (params.textPaths.empty())
        params.textPaths = core::defaultEvalTexts();
    if (params.textPaths.empty())
        throw core::Error("eval: no --text given and no bundled test texts under " + core::resourceDirectory() +
                          "/data");
    core::CancelToken cancel;
    core::EvalJobResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        result = core::runEvalJob(params, std::ref(progress), cancel);
    }

    if (common.json) {
        nlohmann::json rows = nlohmann::json::array();
        for (const auto& t : result.texts)
            rows.push_back({{"text", t.textPath},
                            {"perplexity", t.perplexity},
                            {"nll", t.meanNll},
                            {"tokens", t.tokens},
                            {"windows", t.windows},
                            {"seq_len", t.seqLen},
                            {"seconds", t.seconds}});
        // One text: the object itself (the documented shape); several: an array of them.
        std::cout << (rows.size() == 1 ? rows[0] : rows).dump(2) << "\n";
        return 0;
    }
    std::cout << "model " << result.modelDir << "\n";
    for (const auto& t : result.texts) {
        std::printf("%-40s perplexity %10.3f  (%lld tokens, %lld windows of %lld, %.1f s)\n",
                    std::filesystem::path(t.textPath).filename().string().c_str(), t.perplexity,
                    static_cast<long long>(t.tokens), static_cast<long long>(t.windows),
                    static_cast<long long>(t.seqLen), t.seconds);
    }
    return 0;
}

int listTasks(const CommonOptions& common)
{
    if (common.json) {
        nlohmann::json rows = nlohmann::json::array();
        for (const core::TaskFormat& f : core::taskFormats())
            rows.push_back({{"task", f.name},
                            {"harness_task", f.harnessTask},
                            {"metrics", f.reportedMetrics},
                            {"labels_file", f.takesLabels},
                            {"prompt", f.prompt}});
        std::cout << rows.dump(2) << "\n";
        return 0;
    }
    for (const core::TaskFormat& f : core::taskFormats()) {
        std::string metrics;
        for (const auto& m : f.reportedMetrics)
            metrics += (metrics.empty() ? "" : ", ") + m;
        std::printf("%-20s %-16s %-22s %s\n", f.name.c_str(), f.harnessTask.empty() ? "-" : f.harnessTask.c_str(),
                    metrics.c_str(), f.prompt.c_str());
    }
    return 0;
}

// The harness's JSON keys: task, n, acc, acc_norm, acc_bytes and each metric's <name>_stderr.
nlohmann::json scoreJson(const core::TaskScore& score)
{
    nlohmann::json row = {{"task", score.task}, {"file", score.file}, {"n", score.documents}};
    for (const core::TaskMetric& metric : score.metrics) {
        row[metric.name] = jsonNumber(metric.value);
        row[metric.name + "_stderr"] = jsonNumber(metric.standardError);
    }
    nlohmann::json reported = nlohmann::json::array();
    for (const core::TaskMetric& metric : score.metrics)
        if (metric.reported)
            reported.push_back(metric.name);
    row["reported"] = reported;
    row["seconds"] = score.seconds;
    row["documents_per_second"] = score.seconds > 0 ? static_cast<double>(score.documents) / score.seconds : 0.0;
    return row;
}

int commandTask(const EvalOptions& options, const CommonOptions& common)
{
    core::TaskEvalJobParams params;
    params.tasks = {{options.task, options.data, options.labels, options.limit}};
    params.bos = options.bos;
    params.shareContexts = !options.onePerChoice;
    if (options.runId > 0) {
        params.runId = options.runId;
        params.workspace = options.workspace.empty() ? core::defaultWorkspaceDirectory() : options.workspace;
    } else {
        params.modelDir = resolveModel(options.model);
    }
    core::CancelToken cancel;
    core::TaskEvalJobResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        result = core::runTaskEvalJob(params, std::ref(progress), cancel);
    }
    const core::TaskScore& score = result.scores.at(0);
    if (common.json) {
        nlohmann::json row = scoreJson(score);
        row["model"] = result.modelDir;
        if (result.runId > 0)
            row["run_id"] = result.runId;
        std::cout << row.dump(2) << "\n";
        return 0;
    }
    std::cout << (result.runId > 0 ? "run " + std::to_string(result.runId) + " (" + result.modelDir + ")"
                                   : "model " + result.modelDir)
              << "\n"
              << score.task << ": " << score.documents << " documents, " << score.file << "\n";
    for (const core::TaskMetric& metric : score.metrics)
        std::printf("  %-10s %.4f  ± %.4f%s\n", metric.name.c_str(), metric.value, metric.standardError,
                    metric.reported ? "" : "   (not reported by the harness for this task)");
    std::printf("  %.1f s, %.1f documents/s\n", score.seconds,
                score.seconds > 0 ? static_cast<double>(score.documents) / score.seconds : 0.0);
    return 0;
}

} // namespace

CLI::App* addEvalCommand(CLI::App& cli, EvalOptions& options, CommonOptions& common)
{
    auto* eval = cli.add_subcommand(
        "eval", "Perplexity on text files (GPTQ convention: non-overlapping windows), or with --task zero-shot "
                "accuracy scored as lm-evaluation-harness scores it");
    eval->add_option("--model", options.model, kModelOptionHelp);
    eval->add_option("--text", options.perplexity.textPaths,
                     "Text file(s) (default: the bundled Brown and KJV test texts)")
        ->check(CLI::ExistingFile);
    eval->add_option("--seq-len", options.perplexity.seqLen, "Window length in tokens (default: the model's context)")
        ->check(CLI::Range(2, 1 << 20));
    eval->add_option("--max-windows", options.perplexity.maxWindows, "Evaluate at most K windows (default: all)")
        ->check(CLI::Range(0, 1 << 30));
    auto* task = eval->add_option("--task", options.task,
                                  "Zero-shot task: a harness format (hellaswag, arc_easy, piqa, ...), a bundled task "
                                  "(brown_cloze, brown_next_sentence) or your own generic JSONL task's name");
    eval->add_option("--data", options.data, "The task's data file (default for a bundled task: its file)")
        ->check(CLI::ExistingFile)
        ->needs(task);
    eval->add_option("--labels", options.labels, "Separate labels file (PIQA valid-labels.lst, SIQA dev-labels.lst)")
        ->check(CLI::ExistingFile)
        ->needs(task);
    eval->add_option("--run", options.runId, "Score a finished run of --workspace instead of --model")
        ->check(CLI::Range(std::int64_t(1), std::numeric_limits<std::int64_t>::max()))
        ->needs(task);
    eval->add_option("--workspace", options.workspace, "Workspace of --run (default: the user workspace)");
    eval->add_option("--limit", options.limit, "Score the file's first N documents (default: all)")
        ->check(CLI::Range(std::int64_t(0), std::numeric_limits<std::int64_t>::max()))
        ->needs(task);
    eval->add_option("--bos", options.bos,
                     "BOS before each request: tokenizer (what the model's tokenizer does; the harness since PR "
                     "#3347), never (the harness's HFLM default before it) or always")
        ->check(CLI::IsMember({"tokenizer", "never", "always"}))
        ->needs(task);
    eval->add_flag("--one-forward-per-choice", options.onePerChoice,
                   "Score each choice with its own forward, as the harness does (slower; same numbers)")
        ->needs(task);
    eval->add_flag("--list-tasks", options.listTasks, "The task formats with their harness names and prompts");
    addCommonOptions(eval, common);
    return eval;
}

int commandEval(EvalOptions options, const CommonOptions& common)
{
    if (options.listTasks)
        return listTasks(common);
    if (!options.task.empty()) {
        if (options.runId > 0 && !options.model.empty())
            throw core::Error("eval: give --model or --run, not both");
        return commandTask(options, common);
    }
    if (options.runId > 0)
        throw core::Error("eval: --run scores zero-shot tasks; give --task");
    return commandPerplexity(options.perplexity, options.model, common);
}

} // namespace app
