#include "launcher/engine_launcher.h"

#include "util/error.h"
#include "util/module_loader.h"
#include "util/openblas_core.h"
#include "util/thread_pool_environment.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace app {
namespace {

using EngineMain = int (*)(int, char**);

core::ModuleSearch engineSearch(Engine engine)
{
    core::ModuleSearch search;
    search.fileName = engine == Engine::Gui ? "libquantscope_engine_gui.so" : "libquantscope_engine_cli.so";
    search.description = engine == Engine::Gui ? "workbench engine" : "command-line engine";
    if (const char* dir = std::getenv("QUANTSCOPE_ENGINE_DIR"); dir && *dir)
        search.builtInPath = (std::filesystem::path(dir) / search.fileName).string();
    return search;
}

} // namespace

int runEngine(Engine engine, int argc, char** argv)
{
    core::setThreadPoolEnvironment();
    // LibTorch's BLAS, loaded ahead of the engine to ask which kernels it picked for this CPU;
    // when it fell back to pre-AVX ones, start again with OPENBLAS_CORETYPE set (util/openblas_core.h).
    if (std::getenv("OPENBLAS_CORETYPE") == nullptr)
        if (void* blas = ::dlopen("libblas.so.3", RTLD_NOW | RTLD_LOCAL); blas && core::setOpenBlasCoreCorrection(blas))
            ::execv("/proc/self/exe", argv); // returns only on failure: run on with the slow kernels
    EngineMain entry = nullptr;
    try {
        const core::ModuleSearch search = engineSearch(engine);
        // RTLD_LOCAL: LibTorch's and Qt's symbols stay out of the global scope, where the
        // sentencepiece module (loaded with RTLD_DEEPBIND) must not meet LibTorch's protobuf.
        void* handle = core::openModule(search, RTLD_NOW | RTLD_LOCAL);
        entry = reinterpret_cast<EngineMain>(core::moduleSymbol(handle, "quantscope_engine_main", search));
    } catch (const core::Error& e) {
        std::cerr << "quantscope: error: " << e.what() << "\n";
        return 1;
    }
    return entry(argc, argv);
}

} // namespace app
