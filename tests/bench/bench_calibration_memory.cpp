// bench_calibration_memory: peak resident memory of a full GPTQ W3 g128 calibration
// of the bundled model (128 windows of 512 tokens, the config defaults), against
// what the pipeline must hold by design: the resident process before the job
// (torch, the tokenizer), one copy of the float32 weights (the working model: each block FP
// until it is calibrated, quantized after; issue 15) and the activation streams (FP and quantized, each advanced in
// place: 2 × samples × T × H). Prints one JSON object; the ratio shows how much the job adds on top of that. Also the
// kernel's share of the job's CPU time (sys / user, getrusage; issue 14's target: <= 0.15).

#include "bench_timing.h"
#include "jobs/calibrate_job.h"
#include "jobs/model_info.h"
#include "jobs/runtime.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

double residentMb()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0.0;
}

} // namespace

int main(int, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    const std::string workspaceDir =
        (std::filesystem::temp_directory_path() / ("quantscope-bench-memory-" + std::to_string(::getpid()))).string();
    core::RunConfig config = core::defaultRunConfig("gptq");
    config.weights.bits = 3;
    config.eval.maxWindows = 4; // the benchmark is about calibration; keep evaluation short
    const double before = residentMb();
    const bench::CpuTimes cpuBefore = bench::cpuTimesNow();
    core::CalibrationJobResult result;
    {
        core::Workspace workspace(workspaceDir);
        result = core::runCalibrationJob(workspace, config);
    }
    const bench::CpuTimes cpuAfter = bench::cpuTimesNow();
    std::filesystem::remove_all(workspaceDir);

    const core::ModelInfo info = core::inspectModel(core::parseRunConfig(result.configJson).model);
    const core::RunConfig resolved = core::parseRunConfig(result.configJson);
    const double weightsMb = static_cast<double>(info.parameterCount) * 4.0 / (1024.0 * 1024.0);
    const double streamsMb =
        2.0 * static_cast<double>(resolved.calibration.samples * resolved.calibration.seqLen * info.hiddenSize) * 4.0 /
        (1024.0 * 1024.0);
    const double peak = bench::peakResidentMib();
    const nlohmann::json report{{"benchmark", "calibration_memory"},
                                {"method", "gptq w3g128"},
                                {"samples", resolved.calibration.samples},
                                {"seq_len", resolved.calibration.seqLen},
                                {"parameters", info.parameterCount},
                                {"resident_before_mb", before},
                                {"weights_one_copy_mb", weightsMb},
                                {"activation_streams_mb", streamsMb},
                                {"peak_resident_mb", peak},
                                {"ratio_peak_to_design", peak / (before + weightsMb + streamsMb)},
                                {"calibration_seconds", result.calibrationSeconds},
                                {"user_seconds", cpuAfter.user - cpuBefore.user},
                                {"sys_seconds", cpuAfter.sys - cpuBefore.sys},
                                {"sys_over_user", (cpuAfter.sys - cpuBefore.sys) / (cpuAfter.user - cpuBefore.user)},
                                {"target_sys_over_user", 0.15}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
