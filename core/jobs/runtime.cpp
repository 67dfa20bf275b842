#include "jobs/runtime.h"

#include <torch/torch.h>

#include <thread>

namespace core {

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
