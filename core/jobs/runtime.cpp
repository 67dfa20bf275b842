#include "jobs/runtime.h"

#include "util/openblas_core.h"
#include "util/thread_pool_environment.h"

#include <torch/torch.h>

#include <cstdlib>
#include <thread>

#include <dlfcn.h>
#include <unistd.h>

namespace core {

void relaunchWithThreadPoolEnvironment(char** argv)
{
    if (argv == nullptr || argv[0] == nullptr)
        return;
    const bool threadPools = setThreadPoolEnvironment();
    const bool blasCore = setOpenBlasCoreCorrection(RTLD_DEFAULT); // OpenBLAS is linked: global scope
    if (!threadPools && !blasCore)
        return;
    ::execv("/proc/self/exe", argv); // returns only on failure: run on with the default policies
}

namespace {

// A positive integer environment variable, else 0.
int threadsFromEnvironment(const char* name)
{
    const char* value = std::getenv(name);
    if (value == nullptr)
        return 0;
    char* end = nullptr;
    const long threads = std::strtol(value, &end, 10);
    return end != value && *end == '\0' && threads > 0 && threads < 4096 ? static_cast<int>(threads) : 0;
}

} // namespace

void configureThreads(int threads)
{
    // A sweep gives each of its processes its share of the cores (QUANTSCOPE_THREADS); under
    // Slurm a task has the CPUs it asked for, not the node's.
    if (threads <= 0)
        threads = threadsFromEnvironment("QUANTSCOPE_THREADS");
    if (threads <= 0)
        threads = threadsFromEnvironment("SLURM_CPUS_PER_TASK");
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
}

std::string allocatorName()
{
    if (::dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr)
        return "tcmalloc";
    if (::dlsym(RTLD_DEFAULT, "mallctl") != nullptr)
        return "jemalloc";
    return "glibc";
}

std::string blasCoreName()
{
    std::string core = loadedOpenBlasCore(RTLD_DEFAULT);
    if (core.empty()) {
        // Inside an engine module loaded RTLD_LOCAL the BLAS is not in the global scope.
        if (void* blas = ::dlopen("libblas.so.3", RTLD_LAZY | RTLD_NOLOAD)) {
            core = loadedOpenBlasCore(blas);
            ::dlclose(blas);
        }
    }
    return core;
}

std::string runtimeDescription()
{
    std::string text = std::string("LibTorch ") + TORCH_VERSION + ", " + std::to_string(torch::get_num_threads()) +
                       " threads, " + allocatorName();
    const std::string core = blasCoreName();
    return text + (core.empty() ? ", reference BLAS" : ", OpenBLAS " + core + " kernels");
}

} // namespace core
