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

std::string lockPath(const std::string& runDirectory)
{
    return (std::filesystem::path(runDirectory) / "job.lock").string();
}

} // namespace

RunLock::RunLock(const std::string& runDirectory)
{
    const std::string path = lockPath(runDirectory);
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw Error("run lock " + path + ": cannot create (" + std::strerror(errno) + ")");
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(m_fd);
        throw Error("run lock " + path + ": another process runs this job");
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
    const int fd = ::open(lockPath(runDirectory).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return held;
}

} // namespace core
