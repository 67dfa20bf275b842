// libquantscope_engine_cli.so: the headless subcommands, loaded by the launcher (app/main.cpp).

#include "cli/cli_app.h"
#include "jobs/runtime.h"

extern "C" __attribute__((visibility("default"))) int quantscope_engine_main(int argc, char** argv)
{
    core::configureThreads();
    return app::runCli(argc, argv);
}
