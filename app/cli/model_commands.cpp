#include "cli/model_commands.h"

#include "jobs/model_info.h"
#include "jobs/resources.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace app {

const char* const kModelOptionHelp = "Hugging Face model directory (default: the bundled brown-llama)";
const char* const kVersionLine = "quantscope 0.1.0";

namespace {

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
              << "heads        " << info.numHeads << " x " << info.headDim << " (kv heads " << info.numKvHeads << ")\n"
              << "vocab        " << info.vocabSize
              << " (tokenizer: " << (info.tokenizerKind.empty() ? "missing" : info.tokenizerKind) << ")\n"
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

} // namespace

std::string resolveModel(const std::string& model)
{
    return model.empty() ? core::defaultModelDirectory() : model;
}

void addCommonOptions(CLI::App* command, CommonOptions& common)
{
    command->add_flag("--json", common.json, "Machine-readable output on stdout");
    command->add_flag("-q,--quiet", common.quiet, "No progress on stderr");
}

void setErrorFormat(CLI::App& cli)
{
    // One line per error, like every other error of the CLI.
    cli.failure_message([](const CLI::App*, const CLI::Error& e) {
        return std::string("quantscope: error: ") + e.what() + " (see --help)\n";
    });
}

int reportErrors(const std::function<int()>& command)
{
    try {
        return command();
    } catch (const core::Cancelled&) {
        if (terminationRequested()) {
            std::cerr << "quantscope: stopped by SIGTERM\n";
            return 143;
        }
        std::cerr << "quantscope: cancelled\n";
        return 130;
    } catch (const core::Error& e) {
        std::cerr << "quantscope: error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "quantscope: internal error: " << e.what() << "\n";
        return 1;
    }
}

ModelCommands::ModelCommands(CLI::App& cli, CommonOptions& common) : m_common(common)
{
    m_info = cli.add_subcommand("info", "Show a model's family, sizes, parameter count and layer names");
    m_info->add_option("--model", m_model, kModelOptionHelp);
    addCommonOptions(m_info, common);

    m_tokenize = cli.add_subcommand("tokenize", "Print the token ids of a string");
    m_tokenize->add_option("--model", m_model, kModelOptionHelp);
    m_tokenize->add_option("--text", m_text, "The string to tokenize")->required();
    m_tokenize->add_flag("--no-bos", m_noBos, "Do not prepend the BOS token");
    addCommonOptions(m_tokenize, common);
}

std::optional<int> ModelCommands::dispatch() const
{
    if (*m_info)
        return commandInfo(m_model, m_common);
    if (*m_tokenize)
        return commandTokenize(m_model, m_text, m_noBos, m_common);
    return std::nullopt;
}

} // namespace app
