#pragma once
// Seconds since construction, on the monotonic clock: layer, block, stage and run timings.

#include <chrono>

namespace core {

class Stopwatch {
public:
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count(); }

private:
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

} // namespace core
