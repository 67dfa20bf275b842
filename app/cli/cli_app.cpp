#include "cli/cli_app.h"

#include "cli/cli_common.h"
#include "cli/progress_printer.h"
#include "cli/run_commands.h"
#include "jobs/eval_job.h"
#include "jobs/model_info.h"
#include "jobs/resources.h"
#include "util/error.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace app {
namespace {

std::string resolveModel(const std::string& model)
{
    return model.empty() ? core::defaultModelDirectory() : model;
}

nlohmann::json infoToJson(const core::ModelInfo& info)
{
    return {{"model", info.directory},
            {"family", info.family},
            {"hidden_size", info.hiddenSize},
            {"intermediate_size", info.intermediateSize},
            {"num_layers", info.numLayers},
            {"num_heads", info.numHeads},
            {"num_kv_heads", info.numKvHeads},
            {"head_dim", info.headDim},
            {"vocab_size", info.vocabSize},
            {"max_positions", info.maxPositions},
            {"tied_embeddings", info.tiedEmbeddings},
            {"parameters", info.parameterCount},
            {"storage_dtype", info.storageType},
            {"shards", info.shardCount},
            {"tokenizer", info.tokenizerKind},
            {"layers", info.linearNames},
            {"warnings", info.warnings}};
}

int commandInfo(const std::string& model, const CommonOptions& common)
{
    const core::ModelInfo info = core::inspectModel(resolveModel(model));
    if (common.json) {
        std::cout << infoToJson(info).dump(2) << "\n";
        return 0;
    }
    std::cout << "model        " << info.directory << "\n"
              << "family       " << info.family << "\n"
              << "parameters   " << info.parameterCount << "\n"
              << "hidden       " << info.hiddenSize << " (intermediate " << info.intermediateSize << ")\n"
              << "layers       " << info.numLayers << "\n"
              << "heads        " << info.numHeads << " x " << info.headDim << " (kv heads " << info.numKvHeads
              << ")\n"
              << "vocab        " << info.vocabSize << " (tokenizer: "
              << (info.tokenizerKind.empty() ? "missing" : info.tokenizerKind) << ")\n"
              << "context      " << info.maxPositions << "\n"
              << "weights      " << info.storageType << " in " << info.shardCount << " file(s)"
              << (info.tiedEmbeddings ? ", tied lm_head" : "") << "\n"
              << "linear layers (" << info.linearNames.size() << "):\n";
    for (const auto& name : info.linearNames)
        std::cout << "  " << name << "\n";
    for (const auto& warning : info.warnings)
        std::cerr << "quantscope: warning: " << warning << "\n";
    return 0;
}

int commandTokenize(const std::string& model, const std::string& text, bool noBos, const CommonOptions& common)
{
    const auto ids = core::tokenizeText(resolveModel(model), text, !noBos);
    if (common.json) {
        std::cout << nlohmann::json{{"ids", ids}}.dump() << "\n";
    } else {
        for (std::size_t i = 0; i < ids.size(); ++i)
            std::cout << (i ? " " : "") << ids[i];
        std::cout << "\n";
    }
    return 0;
}

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
    cli.set_version_flag("--version", "quantscope 0.1.0");
    cli.require_subcommand(1);
    // One line per error, like every other error of the CLI.
    cli.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("quantscope: error: ") + e.what() + " (see --help)\n";
    });
    CommonOptions common;
    auto addCommon = [&](CLI::App* command) {
        command->add_flag("--json", common.json, "Machine-readable output on stdout");
        command->add_flag("-q,--quiet", common.quiet, "No progress on stderr");
    };

    std::string model;
    const std::string modelHelp = "Hugging Face model directory (default: the bundled brown-llama)";

    auto* info = cli.add_subcommand("info", "Show a model's family, sizes, parameter count and layer names");
    info->add_option("--model", model, modelHelp);
    addCommon(info);

    std::string text;
    bool noBos = false;
    auto* tokenize = cli.add_subcommand("tokenize", "Print the token ids of a string");
    tokenize->add_option("--model", model, modelHelp);
    tokenize->add_option("--text", text, "The string to tokenize")->required();
    tokenize->add_flag("--no-bos", noBos, "Do not prepend the BOS token");
    addCommon(tokenize);

    core::EvalJobParams evalParams;
    auto* eval = cli.add_subcommand("eval", "Perplexity on text files (GPTQ convention: non-overlapping windows)");
    eval->add_option("--model", model, modelHelp);
    eval->add_option("--text", evalParams.textPaths, "Text file(s) (default: the bundled Brown and KJV test texts)")
        ->check(CLI::ExistingFile);
    eval->add_option("--seq-len", evalParams.seqLen, "Window length in tokens (default: the model's context)")
        ->check(CLI::Range(2, 1 << 20));
    eval->add_option("--max-windows", evalParams.maxWindows, "Evaluate at most K windows (default: all)")
        ->check(CLI::Range(0, 1 << 30));
    addCommon(eval);

    RunCommands runCommands(cli, common);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }

    try {
        if (*info)
            return commandInfo(model, common);
        if (*tokenize)
            return commandTokenize(model, text, noBos, common);
        if (*eval) {
            evalParams.modelDir = model;
            return commandEval(evalParams, common);
        }
        if (const auto code = runCommands.dispatch())
            return *code;
    } catch (const core::Cancelled&) {
        std::cerr << "quantscope: cancelled\n";
        return 130;
    } catch (const core::Error& e) {
        std::cerr << "quantscope: error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "quantscope: internal error: " << e.what() << "\n";
        return 1;
    }
    return 2;
}

} // namespace app
