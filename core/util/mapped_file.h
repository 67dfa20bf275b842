#pragma once
// Read-only memory map of a whole file (POSIX). Pages are loaded lazily by the
// kernel, so opening a multi-GB checkpoint costs nothing until tensors are read.

#include <cstddef>
#include <cstdint>
#include <string>

namespace core {

class MappedFile {
public:
    /// Maps `path` read-only. Throws core::Error naming the file if it cannot be opened.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const { return m_data; }
    std::size_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    const std::uint8_t* m_data = nullptr;
    std::size_t m_size = 0;
};

} // namespace core
