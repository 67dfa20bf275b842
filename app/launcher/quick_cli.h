#pragma once
// The subcommands the launcher runs itself, without loading the engine: `info`,
// `tokenize` and `--version`. Torch-free, Qt-free.

namespace app {

/// True when argv names one of the launcher's own commands.
bool isQuickCommand(int argc, char** argv);

/// Parses and runs one of them; the same option definitions and exit codes as the engine's
/// CLI (cli/model_commands.h), which offers the same commands too.
int runQuickCli(int argc, char** argv);

} // namespace app
