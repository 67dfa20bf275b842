#pragma once
// Seconds a method spent on one Linear (LayerMetrics::seconds).

#include <chrono>

namespace core {

class MethodTimer {
public:
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count(); }

private:
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

} // namespace core
