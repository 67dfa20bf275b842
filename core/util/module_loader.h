#pragma once
// Finding and opening Quantscope's own shared modules (dlopen). Torch-free, Qt-free.
//
// Modules live beside the `quantscope` executable in a build tree (build/app/) and under
// ../lib/quantscope in an installed tree; an environment variable can point elsewhere.

#include <string>
#include <vector>

namespace core {

struct ModuleSearch {
    std::string fileName;    ///< e.g. "libquantscope_spm.so"
    std::string environment; ///< variable that, when set and non-empty, names the file to use first
    std::string builtInPath; ///< a path baked in at build time (may be empty)
    std::string description; ///< for error messages, e.g. "sentencepiece module"
};

/// The candidate paths in search order: $environment, builtInPath, next to /proc/self/exe,
/// ../lib/quantscope relative to the executable.
std::vector<std::string> moduleCandidates(const ModuleSearch& search);

/// dlopen()s the first candidate that exists, with `flags` (RTLD_*). Never unloaded.
/// Throws core::Error naming the module and every path tried when none exists, or the
/// path and the loader's message when it exists but cannot be loaded.
void* openModule(const ModuleSearch& search, int flags);

/// dlsym() that throws core::Error naming the symbol and the module when it is absent.
void* moduleSymbol(void* handle, const char* name, const ModuleSearch& search);

} // namespace core
