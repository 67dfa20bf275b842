#include "util/mapped_file.h"

#include "util/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace core {

MappedFile::MappedFile(const std::string& path) : m_path(path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(path + ": cannot stat (" + std::strerror(err) + ")");
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd);
        throw Error(path + (S_ISDIR(info.st_mode) ? ": is a directory, not a file" : ": is not a regular file"));
    }
    m_size = static_cast<std::size_t>(info.st_size);
    if (m_size > 0) {
        void* mapped = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapped == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(path + ": cannot memory-map (" + std::strerror(err) + ")");
        }
        m_data = static_cast<const std::uint8_t*>(mapped);
    }
    ::close(fd); // the mapping keeps the file alive
}

MappedFile::~MappedFile()
{
    if (m_data)
        ::munmap(const_cast<std::uint8_t*>(m_data), m_size);
}

} // namespace core
