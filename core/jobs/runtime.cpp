#include "jobs/runtime.h"

#include <torch/torch.h>

#include <cstdlib>
#include <thread>

#include <unistd.h>

namespace core {

void relaunchWithPassiveOpenMpWait(char** argv)
{
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || argv == nullptr || argv[0] == nullptr)
        return;
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    ::execv("/proc/self/exe", argv); // returns only on failure: run on with the default policy
}

void configureThreads(int threads)
{
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
}

std::string runtimeDescription()
{
    return std::string("LibTorch ") + TORCH_VERSION + ", " + std::to_string(torch::get_num_threads()) + " threads";
}

} // namespace core
