#include "cli/progress_printer.h"

#include <cstdio>
#include <unistd.h>

namespace app {

ProgressPrinter::ProgressPrinter(bool quiet) : m_quiet(quiet), m_terminal(::isatty(STDERR_FILENO) != 0)
{
}

ProgressPrinter::~ProgressPrinter()
{
    if (m_lineOpen)
        std::fputc('\n', stderr);
}

void ProgressPrinter::operator()(const core::ProgressEvent& event)
{
    if (m_quiet)
        return;
    const auto now = std::chrono::steady_clock::now();
    const int percent = static_cast<int>(event.fraction * 100.0 + 0.5);
    if (m_terminal) {
        // Redraw in place, at most 10 times a second.
        if (percent < 100 && now - m_lastPrint < std::chrono::milliseconds(100))
            return;
        std::fprintf(stderr, "\r\033[K[%s] %3d%% %s", event.stage.c_str(), percent, event.message.c_str());
        m_lineOpen = true;
    } else {
        // Logs and pipes: one line per 10 % decile reached, so CI logs stay short.
        if (m_lastPercent >= 0 && percent / 10 <= m_lastPercent / 10)
            return;
        std::fprintf(stderr, "[%s] %3d%% %s\n", event.stage.c_str(), percent, event.message.c_str());
    }
    std::fflush(stderr);
    m_lastPrint = now;
    m_lastPercent = percent;
}

} // namespace app
