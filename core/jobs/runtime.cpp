#include "jobs/runtime.h"

#include "util/thread_pool_environment.h"

#include <torch/torch.h>

#include <cstdlib>
#include <thread>

#include <dlfcn.h>
#include <unistd.h>

namespace core {

void relaunchWithThreadPoolEnvironment(char** argv)
{
    if (argv == nullptr || argv[0] == nullptr || !setThreadPoolEnvironment())
        return;
    ::execv("/proc/self/exe", argv); // returns only on failure: run on with the default policies
}

void configureThreads(int threads)
{
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

std::string runtimeDescription()
{
    return std::string("LibTorch ") + TORCH_VERSION + ", " + std::to_string(torch::get_num_threads()) + " threads, " +
           allocatorName();
}

} // namespace core
