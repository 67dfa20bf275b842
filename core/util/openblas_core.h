#pragma once
// OpenBLAS's choice of GEMM kernels, and its correction on CPUs newer than the library.
// Torch-free.
//
// Debian 12's OpenBLAS (0.3.21, built with DYNAMIC_ARCH) picks its kernels from the CPU's
// family and model when it is loaded. A model it does not know falls back to "Prescott", the
// SSE3 kernels: on an Emerald Rapids Xeon (family 6, model 207, AVX-512) every LibTorch matmul
// then runs about 3x slower (bundled-model eval, 20 windows: 5.6 s vs 1.8 s with SkylakeX
// kernels; training 2.5 vs 0.9 s per step). OPENBLAS_CORETYPE overrides the choice, and like the
// thread-pool settings it is read once, when OpenBLAS is loaded.

#include <string>

namespace core {

/// What the CPU running this process supports, as far as the kernel choice cares.
struct CpuVectorFeatures {
    bool avx = false;
    bool avx2Fma = false; ///< AVX2 and FMA3 (OpenBLAS's Haswell kernels)
    bool avx512 = false;  ///< AVX-512 F, CD, BW, DQ and VL (its SkylakeX kernels)
};
CpuVectorFeatures cpuVectorFeatures();

/// The OPENBLAS_CORETYPE to use when OpenBLAS chose `detectedCore` on a CPU with `cpu`: ""
/// when the choice stands. Only a fallback to a pre-AVX core (Prescott, Core2, Nehalem, ...)
/// on a CPU with AVX or better is corrected; a specific choice (Haswell, Zen, SkylakeX, ...)
/// is never second-guessed.
std::string openBlasCoreCorrection(const std::string& detectedCore, const CpuVectorFeatures& cpu);

/// The core the OpenBLAS reachable from `library` (a dlopen handle, or RTLD_DEFAULT for the
/// process's global scope) runs on, "" when none is reachable (e.g. the reference BLAS).
std::string loadedOpenBlasCore(void* library);

/// Sets OPENBLAS_CORETYPE when the user has not and the OpenBLAS reachable from `library`
/// fell back to a pre-AVX core on this CPU. Returns true when it set it: the process must
/// then re-execute itself, since the loaded OpenBLAS keeps its kernels.
bool setOpenBlasCoreCorrection(void* library);

} // namespace core
