#pragma once
// The `quantscope` executable is a small launcher; the engine lives in modules it loads on
// demand. Torch-free, Qt-free.
//
// Why: LibTorch (Debian's, with its 286 shared libraries) takes over a second to load before
// main() could run a line, and its thread pools read their settings only at that moment
// (util/thread_pool_environment.h). The launcher runs the commands that only read a model
// directory (info, tokenize, --version) without it, and for everything else sets the
// thread-pool environment, then loads the engine:
//   libquantscope_engine_cli.so  headless subcommands (LibTorch, no Qt)
//   libquantscope_engine_gui.so  the workbench window (LibTorch and Qt)
// Each exports `int quantscope_engine_main(int argc, char** argv)`.

namespace app {

enum class Engine { Cli, Gui };

/// Sets the thread-pool environment (where the user has not), loads the engine module (next to the executable;
/// $QUANTSCOPE_ENGINE_DIR overrides the directory) and runs its entry point on the calling thread. Returns its exit
/// code; prints one line and returns 1 when the module cannot be found or loaded.
int runEngine(Engine engine, int argc, char** argv);

} // namespace app
