#include "util/module_loader.h"

#include "util/error.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

namespace core {

std::vector<std::string> moduleCandidates(const ModuleSearch& search)
{
    std::vector<std::string> candidates;
    if (!search.environment.empty())
        if (const char* env = std::getenv(search.environment.c_str()); env && *env)
            candidates.emplace_back(env);
    if (!search.builtInPath.empty())
        candidates.push_back(search.builtInPath);
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back((exe.parent_path() / search.fileName).string());
        candidates.push_back((exe.parent_path() / "../lib/quantscope" / search.fileName).lexically_normal().string());
    }
    return candidates;
}

void* openModule(const ModuleSearch& search, int flags)
{
    std::string tried;
    for (const auto& path : moduleCandidates(search)) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) {
            tried += " " + path;
            continue;
        }
        void* handle = ::dlopen(path.c_str(), flags);
        if (!handle)
            throw Error(path + ": cannot load the " + search.description + " (" + ::dlerror() + ")");
        return handle;
    }
    throw Error(search.description + " " + search.fileName + " not found (tried:" + tried + ")");
}

void* moduleSymbol(void* handle, const char* name, const ModuleSearch& search)
{
    void* symbol = ::dlsym(handle, name);
    if (!symbol)
        throw Error(search.fileName + ": missing symbol " + name + " (a module from another build?)");
    return symbol;
}

} // namespace core
