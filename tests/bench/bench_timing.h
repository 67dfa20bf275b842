#pragma once
// Timing helpers shared by the benchmarks.

#include <algorithm>
#include <chrono>
#include <functional>

namespace bench {

/// The best wall time, in seconds, of `repeats` runs of `work`, after `warmups` untimed runs
/// (allocator, thread pools, page cache).
inline double bestSeconds(const std::function<void()>& work, int repeats, int warmups = 0)
{
    for (int i = 0; i < warmups; ++i)
        work();
    double best = 1e30;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        work();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

} // namespace bench
