// Linked into every test program (tests/CMakeLists.txt): before main(), a test started
// without the runtime settings of core/jobs/runtime.h (the thread-pool variables, or the
// OpenBLAS kernels on a CPU newer than Debian's OpenBLAS knows) sets them and re-executes
// itself, as the benchmarks do in their main(). ctest sets the thread-pool variables, so
// under ctest this re-executes only where OpenBLAS fell back to pre-AVX kernels.
#include "jobs/runtime.h"

namespace {

// glibc passes (argc, argv, envp) to ELF constructors.
__attribute__((constructor)) void relaunchWithRuntimeSettings(int, char** argv, char**)
{
    core::relaunchWithThreadPoolEnvironment(argv);
}

} // namespace
