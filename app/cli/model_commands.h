#pragma once
// The CLI subcommands that only read a model directory: info and tokenize. Torch-free and
// Qt-free, so the launcher runs them without loading the engine (LibTorch's start-up alone
// takes over a second; see launcher/engine_launcher.h).

#include "cli/cli_common.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

namespace app {

/// Registers `info` and `tokenize` on `cli`. dispatch() after parsing runs the chosen one and
/// returns its exit code, or std::nullopt when neither was chosen. Throws core::Error.
class ModelCommands {
public:
    ModelCommands(CLI::App& cli, CommonOptions& common);
    std::optional<int> dispatch() const;

private:
    CommonOptions& m_common;
    std::string m_model;
    std::string m_text;
    bool m_noBos = false;
    CLI::App* m_info = nullptr;
    CLI::App* m_tokenize = nullptr;
};

/// The help text of --model, shared by every subcommand that takes one.
extern const char* const kModelOptionHelp;

/// `model`, or the bundled default model when empty.
std::string resolveModel(const std::string& model);

/// The version line printed by --version.
extern const char* const kVersionLine;

/// Adds --json and -q/--quiet to a subcommand.
void addCommonOptions(CLI::App* command, CommonOptions& common);

/// Sets the CLI's one-line error format ("quantscope: error: ... (see --help)").
void setErrorFormat(CLI::App& cli);

/// The exit status of a command line CLI11 refused: 0 for --help and --version (printed here), 2 for
/// every usage error (one line on stderr). A word where a subcommand belongs is named ("unknown
/// subcommand 'foo' of 'runs'") instead of CLI11's "A subcommand is required".
int exitForParseError(CLI::App& cli, const CLI::ParseError& error, int argc, char** argv);

/// Runs `command` and turns what it throws into the CLI's exit codes and one-line messages:
/// core::Error → 1, core::Cancelled → 130 (143 after SIGTERM), other std::exception → 1 ("internal error").
int reportErrors(const std::function<int()>& command);

} // namespace app
