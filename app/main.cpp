// The single quantscope executable: `quantscope <subcommand>` runs headless,
// `quantscope` or `quantscope gui` opens the workbench. A launcher: the commands that
// only read a model directory run here, everything else in an engine module
// (launcher/engine_launcher.h explains why).

#include "launcher/engine_launcher.h"
#include "launcher/quick_cli.h"

#include <string>

int main(int argc, char** argv)
{
    if (app::isQuickCommand(argc, argv))
        return app::runQuickCli(argc, argv);
    const bool wantsGui = argc == 1 || std::string(argv[1]) == "gui";
#ifdef QS_WITH_GUI
    if (wantsGui)
        return app::runEngine(app::Engine::Gui, argc, argv);
#else
    if (wantsGui) {
        char help[] = "--help";
        char* helpArgv[] = {argv[0], help, nullptr};
        return app::runEngine(app::Engine::Cli, 2, helpArgv);
    }
#endif
    return app::runEngine(app::Engine::Cli, argc, argv);
}
