#include "store/run_lock.h"

#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace core {
namespace {

// The lock is taken on the run directory itself, not on a file in it: a file can be deleted by
// hand while the job runs (and the run would then look interrupted); the directory cannot go
// without the run going with it.
int openDirectory(const std::string& runDirectory)
{
    return ::open(runDirectory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

} // namespace

RunLock::RunLock(const std::string& runDirectory)
{
    std::error_code ignored;
    std::filesystem::create_directories(runDirectory, ignored);
    m_fd = openDirectory(runDirectory);
    if (m_fd < 0)
        throw Error("run lock " + runDirectory + ": cannot open the run directory (" + std::strerror(errno) + ")");
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(m_fd);
        throw Error("run lock " + runDirectory + ": another process runs this job");
    }
}

RunLock::~RunLock()
{
    if (m_fd >= 0)
        ::close(m_fd); // releases the flock
}

bool runLockHeld(const std::string& runDirectory)
{
    // A separate open file description: flock conflicts with other descriptions even within
    // this process, so a job running in this process counts as held.
    const int fd = openDirectory(runDirectory);
    if (fd < 0)
        return false;
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return held;
}

} // namespace core
