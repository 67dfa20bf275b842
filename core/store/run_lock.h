#pragma once
// Telling a running job from one whose process is gone. A job holds an advisory lock (flock)
// on runs/<id>/job.lock while it runs; the kernel releases it however the process ends (exit,
// crash, SIGKILL), so a run in status `running` whose lock nobody holds was interrupted. The
// catalog alone cannot know: its status is written by the process that died.

#include <string>

namespace core {

/// Holds the job lock of one run directory for its lifetime. Throws core::Error when the lock
/// file cannot be created or another process holds it already.
class RunLock {
public:
    explicit RunLock(const std::string& runDirectory);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int m_fd = -1;
};

/// Whether some process (this one included, through another RunLock) holds the job lock of
/// `runDirectory`. False when there is no lock file (the run directory is gone or older
/// than this mechanism).
bool runLockHeld(const std::string& runDirectory);

} // namespace core
