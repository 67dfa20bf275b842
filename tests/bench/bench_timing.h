#pragma once
// Timing helpers shared by the benchmarks.

#include <algorithm>
#include <chrono>
#include <functional>

#include <sys/resource.h>

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

/// Wall time and this process's CPU time so far (user and kernel, getrusage), in seconds.
struct CpuTimes {
    double wall = 0, user = 0, sys = 0;
};

inline CpuTimes cpuTimesNow()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
    };
    return {std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(),
            seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

/// This process's peak resident memory so far, in MiB (getrusage's ru_maxrss, KiB on Linux).
inline double peakResidentMib()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

} // namespace bench
