#include "launcher/quick_cli.h"

#include "cli/model_commands.h"

#include <CLI/CLI.hpp>

#include <string>

namespace app {

bool isQuickCommand(int argc, char** argv)
{
    if (argc < 2)
        return false;
    const std::string command = argv[1];
    return command == "info" || command == "tokenize" || command == "--version";
}

int runQuickCli(int argc, char** argv)
{
    CLI::App cli{"Quantscope: post-training quantization workbench for LLMs."};
    cli.set_version_flag("--version", kVersionLine);
    cli.require_subcommand(1);
    setErrorFormat(cli);
    CommonOptions common;
    const ModelCommands commands(cli, common);
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return exitForParseError(cli, e, argc, argv);
    }
    return reportErrors([&] { return commands.dispatch().value_or(2); });
}

} // namespace app
