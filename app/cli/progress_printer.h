#pragma once
// Turns core::ProgressEvents into a compact progress line on stderr.

#include "util/progress.h"

#include <chrono>
#include <string>

namespace app {

class ProgressPrinter {
public:
    /// `quiet` suppresses everything (used with --quiet).
    explicit ProgressPrinter(bool quiet);
    ~ProgressPrinter();
    void operator()(const core::ProgressEvent& event);

private:
    bool m_quiet;
    bool m_terminal;
    bool m_lineOpen = false;
    std::chrono::steady_clock::time_point m_lastPrint;
    int m_lastPercent = -1;
};

} // namespace app
