#include "cli/cli_common.h"

#include <atomic>
#include <cmath>
#include <csignal>

namespace app {
namespace {

// The only process-wide state of the CLI: where SIGINT stores "cancel". A signal
// handler cannot reach anything else safely.
std::atomic<bool>* g_interruptFlag = nullptr;
std::atomic<bool> g_terminated{false};

void onInterrupt(int signal)
{
    if (signal == SIGTERM)
        g_terminated.store(true);
    if (g_interruptFlag)
        g_interruptFlag->store(true);
}

} // namespace

nlohmann::json jsonNumber(double value)
{
    return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

InterruptScope::InterruptScope(const core::CancelToken& token)
{
    g_interruptFlag = token.signalSafeFlag();
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
}

InterruptScope::~InterruptScope()
{
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_interruptFlag = nullptr;
}

bool terminationRequested()
{
    return g_terminated.load();
}

} // namespace app
