// bench_diagnostics (issue 6): recording diagnostics must not dominate a run.
//  (a) histogram counting of a 16 M-element float tensor vs a plain copy of it (target ≤ 3×;
//      reported against a fresh clone and against a copy into preallocated memory);
//  (b) a full GPTQ W3 g128 calibration of the bundled model with default diagnostics vs
//      without (target ≤ 1.3×; evaluation limited to a few windows, it is the same in both);
//  (c) the size of the run's artifacts.h5 with default diagnostics (target < 20 MB).
// Prints one JSON object. `bench_diagnostics --quick` runs (a) only.

#include "bench_timing.h"
#include "jobs/calibrate_job.h"
#include "jobs/runtime.h"
#include "metrics/histogram.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

namespace {

double secondsOf(const std::function<void()>& work, int repeats = 1)
{
    return bench::bestSeconds(work, repeats);
}

struct TimedRun {
    double seconds = 0.0;
    double artifactMb = 0.0;
};

TimedRun calibrate(bool diagnostics)
{
    namespace fs = std::filesystem;
    const std::string dir = (fs::temp_directory_path() /
                             ("quantscope-bench-diag-" + std::to_string(::getpid()) + (diagnostics ? "-on" : "-off")))
                                .string();
    core::RunConfig config = core::defaultRunConfig("gptq");
    config.weights.bits = 3;
    config.eval.maxWindows = 2;
    config.diagnostics.enabled = diagnostics;
    TimedRun run;
    {
        core::Workspace workspace(dir);
        const auto result = core::runCalibrationJob(workspace, config);
        run.seconds = result.seconds;
        run.artifactMb = static_cast<double>(fs::file_size(workspace.artifactPath(result.runId))) / (1024.0 * 1024.0);
    }
    fs::remove_all(dir);
    return run;
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    torch::NoGradGuard noGrad;
    const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
    torch::manual_seed(0);
    const torch::Tensor values = torch::randn({16 * 1024 * 1024});
    torch::Tensor copy;
    const double copySeconds = secondsOf([&] { copy = values.clone(); }, 5);
    // The same copy into memory already mapped: no page faults, the strictest baseline.
    const double copyIntoSeconds = secondsOf([&] { copy.copy_(values); }, 5);
    const core::HistogramEdges edges = core::edgesForRange(-4.0, 4.0, 256);
    const double histogramSeconds = secondsOf(
        [&] {
            core::HistogramAccumulator accumulator(edges);
            accumulator.add(values);
        },
        5);
    nlohmann::json report{{"benchmark", "diagnostics"},
                          {"threads", torch::get_num_threads()},
                          {"copy_seconds", copySeconds},
                          {"histogram_seconds", histogramSeconds},
                          {"copy_into_preallocated_seconds", copyIntoSeconds},
                          {"ratio_histogram_to_copy", histogramSeconds / copySeconds},
                          {"ratio_histogram_to_copy_into_preallocated", histogramSeconds / copyIntoSeconds},
                          {"target_ratio_histogram_to_copy", 3.0}};
    if (!quick) {
        const TimedRun without = calibrate(false);
        const TimedRun with = calibrate(true);
        report["run_seconds_without_diagnostics"] = without.seconds;
        report["run_seconds_with_diagnostics"] = with.seconds;
        report["ratio_run_with_to_without"] = with.seconds / without.seconds;
        report["target_ratio_run"] = 1.3;
        report["artifact_mb_with_diagnostics"] = with.artifactMb;
        report["artifact_mb_without_diagnostics"] = without.artifactMb;
        report["target_artifact_mb"] = 20.0;
    }
    std::cout << report.dump(2) << std::endl;
    return 0;
}
