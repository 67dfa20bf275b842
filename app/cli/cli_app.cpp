#include "cli/cli_app.h"

#include "cli/cli_common.h"
#include "cli/eval_command.h"
#include "cli/model_commands.h"
#include "cli/progress_printer.h"
#include "cli/run_commands.h"
#include "cli/sweep_command.h"
#include "config/method_listing.h"
#include "util/error.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace app {
int runCli(int argc, char** argv)
{
    CLI::App cli{"Quantscope: post-training quantization workbench for LLMs.\n"
                 "Run without a subcommand (or with 'gui') to open the workbench window."};
    cli.set_version_flag("--version", kVersionLine);
    cli.require_subcommand(1);
    setErrorFormat(cli);
    CommonOptions common;
    const ModelCommands modelCommands(cli, common);

    EvalOptions evalOptions;
    auto* eval = addEvalCommand(cli, evalOptions, common);

    bool markdown = false;
    auto* methods = cli.add_subcommand("methods", "Every calibration method with its options and defaults");
    methods->add_flag("--markdown", markdown, "The README's method table");
    addCommonOptions(methods, common);

    RunCommands runCommands(cli, common);
    SweepCommand sweepCommand(cli, common);

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return exitForParseError(cli, e, argc, argv);
    }

    return reportErrors([&] {
        if (const auto code = modelCommands.dispatch())
            return *code;
        if (*eval)
            return commandEval(evalOptions, common);
        if (*methods) {
            std::cout << (common.json ? core::methodsJson() + "\n"
                          : markdown  ? core::methodsMarkdown()
                                      : core::methodsText());
            return 0;
        }
        if (const auto code = sweepCommand.dispatch())
            return *code;
        return runCommands.dispatch().value_or(2);
    });
}

} // namespace app
