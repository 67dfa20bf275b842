#include "cli/model_commands.h"

#include "jobs/model_info.h"
#include "jobs/resources.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
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

namespace {
// The first word of the command line that stands where a subcommand belongs but names none, with
// the command it was given to; empty when the words name subcommands all the way.
std::optional<std::pair<std::string, const CLI::App*>> unknownSubcommand(const CLI::App& cli, int argc, char** argv)
{
    const CLI::App* command = &cli;
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.starts_with("-") || command->get_subcommands({}).empty())
            return std::nullopt; // options start here: CLI11's own message is the right one
        const auto subcommands = command->get_subcommands([&](const CLI::App* sub) { return sub->check_name(word); });
        if (subcommands.empty())
            return std::make_pair(word, command);
        command = subcommands.front();
    }
    return std::nullopt;
}
} // namespace

int exitForParseError(CLI::App& cli, const CLI::ParseError& error, int argc, char** argv)
{
    if (error.get_exit_code() == 0)
        return cli.exit(error); // --help, --version
    if (const auto unknown = unknownSubcommand(cli, argc, argv)) {
        std::string known;
        for (const CLI::App* sub : unknown->second->get_subcommands({}))
            known += (known.empty() ? "" : ", ") + sub->get_name();
        const std::string parent = unknown->second == &cli ? "quantscope" : unknown->second->get_name();
        std::cerr << "quantscope: error: unknown subcommand '" << unknown->first << "' of '" << parent
                  << "' (known: " << known << ")\n";
        return 2;
    }
    cli.exit(error); // prints the one-line message set by setErrorFormat
    return 2;
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
    } catch (const std::filesystem::filesystem_error& e) {
        // A file the user named (an --out, a --csv directory) that cannot be written: not internal.
        std::cerr << "quantscope: error: " << e.path1().string() << ": " << e.code().message() << "\n";
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
