#include "cli/cli_app.h"

#include "cli/cli_common.h"
#include "cli/model_commands.h"
#include "cli/progress_printer.h"
#include "cli/run_commands.h"
#include "config/method_listing.h"
#include "jobs/eval_job.h"
#include "jobs/resources.h"
#include "util/error.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace app {
namespace {

int commandEval(core::EvalJobParams params, const CommonOptions& common)
{
    params.modelDir = resolveModel(params.modelDir);
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

} // namespace

int runCli(int argc, char** argv)
{
    CLI::App cli{"Quantscope: post-training quantization workbench for LLMs.\n"
                 "Run without a subcommand (or with 'gui') to open the workbench window."};
    cli.set_version_flag("--version", kVersionLine);
    cli.require_subcommand(1);
    setErrorFormat(cli);
    CommonOptions common;
    const ModelCommands modelCommands(cli, common);

    std::string model;

    core::EvalJobParams evalParams;
    auto* eval = cli.add_subcommand("eval", "Perplexity on text files (GPTQ convention: non-overlapping windows)");
    eval->add_option("--model", model, kModelOptionHelp);
    eval->add_option("--text", evalParams.textPaths, "Text file(s) (default: the bundled Brown and KJV test texts)")
        ->check(CLI::ExistingFile);
    eval->add_option("--seq-len", evalParams.seqLen, "Window length in tokens (default: the model's context)")
        ->check(CLI::Range(2, 1 << 20));
    eval->add_option("--max-windows", evalParams.maxWindows, "Evaluate at most K windows (default: all)")
        ->check(CLI::Range(0, 1 << 30));
    addCommonOptions(eval, common);

    bool markdown = false;
    auto* methods = cli.add_subcommand("methods", "Every calibration method with its options and defaults");
    methods->add_flag("--markdown", markdown, "The README's method table");
    addCommonOptions(methods, common);

    RunCommands runCommands(cli, common);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }

    return reportErrors([&] {
        if (const auto code = modelCommands.dispatch())
            return *code;
        if (*eval) {
            evalParams.modelDir = model;
            return commandEval(evalParams, common);
        }
        if (*methods) {
            std::cout << (common.json ? core::methodsJson() + "\n"
                          : markdown  ? core::methodsMarkdown()
                                      : core::methodsText());
            return 0;
        }
        return runCommands.dispatch().value_or(2);
    });
}

} // namespace app
