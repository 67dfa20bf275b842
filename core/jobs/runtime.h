#pragma once
// Process-wide set-up of the numeric runtime. Torch-free.

#include <string>

namespace core {

/// Test programs, benchmarks and experiments link LibTorch directly, so libgomp and OpenBLAS
/// are loaded before main() and have read their environment already: a process started
/// without the thread-pool settings (util/thread_pool_environment.h), or whose OpenBLAS fell
/// back to pre-AVX kernels on this CPU (util/openblas_core.h), sets them and re-executes
/// itself once (/proc/self/exe, same argv). Returns without doing anything when all are set
/// already (a user's choice wins), and carries on unchanged if the re-execution fails. Call
/// first thing in main(). The `quantscope` launcher does not link LibTorch and sets them
/// before it loads the engine (re-executing only for the OpenBLAS kernels).
void relaunchWithThreadPoolEnvironment(char** argv);

/// Sets torch's intra-op thread count once at start-up (0: $QUANTSCOPE_THREADS, else
/// $SLURM_CPUS_PER_TASK, else all cores).
void configureThreads(int threads = 0);

/// The malloc this process runs on: "tcmalloc", "jemalloc" or "glibc" (by the symbols each
/// exports; QS_ALLOCATOR chooses it at build time, cmake/QuantscopeAllocator.cmake).
std::string allocatorName();

/// The kernels the loaded OpenBLAS runs ("SkylakeX", "Haswell", ...); "" for another BLAS.
std::string blasCoreName();

/// "LibTorch 1.13.1, 2 threads, tcmalloc, OpenBLAS SkylakeX kernels" — for About boxes and logs.
std::string runtimeDescription();

} // namespace core
