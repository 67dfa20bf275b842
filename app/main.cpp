// The single quantscope executable: `quantscope <subcommand>` runs headless,
// `quantscope` or `quantscope gui` opens the workbench.

#include "cli/cli_app.h"
#include "jobs/runtime.h"

#include <string>

#ifdef QS_WITH_GUI
#include "gui/gui_app.h"
#endif

int main(int argc, char** argv)
{
    core::relaunchWithPassiveOpenMpWait(argv);
    core::configureThreads();
    const bool wantsGui = argc == 1 || std::string(argv[1]) == "gui";
#ifdef QS_WITH_GUI
    if (wantsGui)
        return app::runGui(argc, argv);
#else
    if (wantsGui) {
        char help[] = "--help";
        char* helpArgv[] = {argv[0], help, nullptr};
        return app::runCli(2, helpArgv);
    }
#endif
    return app::runCli(argc, argv);
}
