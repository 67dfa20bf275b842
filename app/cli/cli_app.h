#pragma once
// The headless `quantscope <subcommand>` interface. Qt-free: it builds in the
// CLI-only configuration and never creates a QApplication.

namespace app {

/// Parses argv and runs one subcommand on the calling thread. Progress goes to
/// stderr, results to stdout (JSON with --json). Returns the process exit code:
/// 0 success, 1 error (one line on stderr naming the cause), 2 usage, 130 cancelled.
int runCli(int argc, char** argv);

} // namespace app
