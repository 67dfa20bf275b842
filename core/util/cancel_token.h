#pragma once
// A cancel flag shared between the thread that runs a job and the thread that
// wants it stopped. Copies share the same flag; checking it is one atomic load.

#include "util/error.h"

#include <atomic>
#include <memory>

namespace core {

class CancelToken {
public:
    CancelToken() : m_flag(std::make_shared<std::atomic<bool>>(false)) {}

    /// Thread-safe; the job notices at its next check.
    void requestCancel() const { m_flag->store(true, std::memory_order_relaxed); }
    bool isCancelled() const { return m_flag->load(std::memory_order_relaxed); }
    /// Throws core::Cancelled when cancellation was requested.
    void throwIfCancelled() const
    {
        if (isCancelled())
            throw Cancelled();
    }
    /// The flag itself, for a POSIX signal handler (storing to a lock-free atomic is
    /// async-signal-safe). The token must outlive the handler's use of it.
    std::atomic<bool>* signalSafeFlag() const { return m_flag.get(); }

private:
    std::shared_ptr<std::atomic<bool>> m_flag;
};

} // namespace core
