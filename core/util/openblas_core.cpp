#include "util/openblas_core.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

#include <dlfcn.h>

namespace core {
namespace {

// OpenBLAS's x86-64 cores without AVX kernels: what its dynamic dispatch falls back to.
constexpr std::array<const char*, 10> kPreAvxCores = {"prescott", "core2",     "penryn", "dunnington", "nehalem",
                                                      "atom",     "northwood", "katmai", "coppermine", "banias"};

std::string lowercase(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

} // namespace

CpuVectorFeatures cpuVectorFeatures()
{
    CpuVectorFeatures features;
#if defined(__x86_64__)
    __builtin_cpu_init();
    features.avx = __builtin_cpu_supports("avx");
    features.avx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    features.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
#endif
    return features;
}

std::string openBlasCoreCorrection(const std::string& detectedCore, const CpuVectorFeatures& cpu)
{
    const std::string detected = lowercase(detectedCore);
    const bool fellBack =
        std::any_of(kPreAvxCores.begin(), kPreAvxCores.end(), [&](const char* core) { return detected == core; });
    if (!fellBack)
        return "";
    if (cpu.avx512)
        return "SkylakeX";
    if (cpu.avx2Fma)
        return "Haswell";
    if (cpu.avx)
        return "SandyBridge";
    return "";
}

std::string loadedOpenBlasCore(void* library)
{
    using CoreName = char* (*)();
    const auto coreName = reinterpret_cast<CoreName>(::dlsym(library, "openblas_get_corename"));
    if (coreName == nullptr)
        return "";
    const char* name = coreName();
    return name == nullptr ? "" : name;
}

bool setOpenBlasCoreCorrection(void* library)
{
    if (std::getenv("OPENBLAS_CORETYPE") != nullptr)
        return false;
    const std::string correction = openBlasCoreCorrection(loadedOpenBlasCore(library), cpuVectorFeatures());
    if (correction.empty())
        return false;
    ::setenv("OPENBLAS_CORETYPE", correction.c_str(), 1);
    return true;
}

} // namespace core
