#pragma once
// libFuzzer hands a harness bytes; the parsers under test read files (they memory-map
// checkpoints and name the file in every error). Each harness process writes its inputs into a
// directory of its own under the temp directory and hands the parser those paths.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fuzz {

/// This process's scratch directory, created on first use.
inline const std::string& inputDirectory()
{
    static const std::string dir = [] {
        const auto path = std::filesystem::temp_directory_path() / ("quantscope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
        return path.string();
    }();
    return dir;
}

/// Writes `size` bytes of `data` to `<inputDirectory()>/<name>` and returns that path.
inline std::string writeInput(const std::string& name, const std::uint8_t* data, std::size_t size)
{
    const std::string path = inputDirectory() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out)
        std::abort(); // the harness failed, not the parser: stop rather than report nonsense
    return path;
}

inline std::string writeInput(const std::string& name, const std::string& text)
{
    return writeInput(name, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

} // namespace fuzz
