#pragma once
// Telling a running job from one whose process is gone. A job holds an advisory lock (flock)
// on its run directory runs/<id>/ while it runs; the kernel releases it however the process ends (exit,
// crash, SIGKILL), so a run in status `running` whose lock nobody holds was interrupted. The
// catalog alone cannot know: its status is written by the process that died.

#include <string>

namespace core {

/// Holds the job lock of one run directory (created if missing) for its lifetime. Throws
/// core::Error when the directory cannot be opened or another process holds the lock already.
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
/// `runDirectory`. False when the run directory is gone.
bool runLockHeld(const std::string& runDirectory);

} // namespace core
