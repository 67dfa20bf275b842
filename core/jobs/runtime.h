#pragma once
// Process-wide set-up of the numeric runtime. Torch-free.

#include <string>

namespace core {

/// Sets torch's intra-op thread count once at start-up (0 = all cores).
void configureThreads(int threads = 0);

/// "LibTorch 1.13.1, 2 threads" — for About boxes and logs.
std::string runtimeDescription();

} // namespace core
