// libquantscope_engine_gui.so: the workbench window, loaded by the launcher (app/main.cpp).

#include "gui/gui_app.h"
#include "jobs/runtime.h"

extern "C" __attribute__((visibility("default"))) int quantscope_engine_main(int argc, char** argv)
{
    core::configureThreads();
    return app::runGui(argc, argv);
}
