#pragma once
// Process-wide set-up of the numeric runtime. Torch-free.

#include <string>

namespace core {

/// Torch's element-wise kernels run on libgomp's OpenMP pool and its GEMMs on OpenBLAS's
/// own pthread pool. With libgomp's default wait policy, idle OpenMP workers spin and take
/// the cores OpenBLAS needs (2 cores, measured: bundled-model forward 2.24 → 1.18 s, an
/// OmniQuant step about 3× faster, GPTQ 13.7 → 12.0 s with OMP_WAIT_POLICY=PASSIVE).
/// libgomp reads the variable only when it is loaded, before main(), so a process started
/// without it sets it and re-executes itself once (/proc/self/exe, same argv). Returns
/// without doing anything when OMP_WAIT_POLICY is already set (a user's choice wins), and
/// carries on unchanged if the re-execution fails. Call first thing in main().
void relaunchWithPassiveOpenMpWait(char** argv);

/// Sets torch's intra-op thread count once at start-up (0 = all cores).
void configureThreads(int threads = 0);

/// "LibTorch 1.13.1, 2 threads" — for About boxes and logs.
std::string runtimeDescription();

} // namespace core
