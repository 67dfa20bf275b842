#include "util/text_file.h"

#include "util/error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace core {

std::string readTextFile(const std::string& path)
{
    if (!std::filesystem::exists(path))
        throw Error(path + ": file not found");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

void writeFileAtomically(const std::string& path, const std::string& contents)
{
    const std::string temporary = path + ".partial";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out)
            throw Error(path + ": cannot write (" + std::strerror(errno) + ")");
        out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
        out.flush();
        if (!out)
            throw Error(path + ": write failed (" + std::strerror(errno) + ")");
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec)
        throw Error(path + ": cannot replace file (" + ec.message() + ")");
}

} // namespace core
