// bench_checkpoint: what resume costs (issue 20 §4). The block pipeline on the bundled model
// (GPTQ, the main job's calibration shape) with and without its per-block checkpoint, best of
// three each, in the same run: the ratio of wall times and the bytes the checkpoint holds at
// its largest (the finished blocks in float32 plus both activation streams).
// Prints one JSON object; target: checkpointed / plain <= 1.15 on a local disk.

#include "bench_timing.h"
#include "calib/block_pipeline.h"
#include "calib/calibration_method.h"
#include "calib/pipeline_checkpoint.h"
#include "config/run_config.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

std::uintmax_t directoryBytes(const fs::path& directory)
{
    std::uintmax_t bytes = 0;
    if (fs::is_directory(directory))
        for (const auto& entry : fs::recursive_directory_iterator(directory))
            if (entry.is_regular_file())
                bytes += entry.file_size();
    return bytes;
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    const std::int64_t samples = argc > 1 ? std::stoll(argv[1]) : 64;
    const std::int64_t seqLen = argc > 2 ? std::stoll(argv[2]) : 256;
    const std::string model = core::defaultModelDirectory();
    const core::RunConfig config = core::defaultRunConfig("gptq");
    torch::manual_seed(0);
    const torch::Tensor ids = torch::randint(0, 2048, {samples, seqLen}, torch::kLong);
    core::PipelineOptions options;
    options.spec = {3, 128, false};
    const fs::path directory = fs::temp_directory_path() / ("bench-checkpoint-" + std::to_string(::getpid()));
    std::uintmax_t largest = 0;

    const auto calibrate = [&](bool checkpointed) {
        core::DecoderModel working(model);
        const auto method = core::createCalibrationMethod(config);
        core::PipelineOptions run = options;
        core::PipelineCheckpoint checkpoint(directory.string(), {"bench", "{}", "bench", "bench"});
        checkpoint.remove();
        if (checkpointed) {
            run.checkpoint = &checkpoint;
            run.onBlockFinished = [&](const core::BlockOutcome&) {};
        }
        core::runBlockPipeline(working, ids, *method, run);
        largest = std::max(largest, directoryBytes(directory));
        checkpoint.remove();
    };
    const double plain = bench::bestSeconds([&] { calibrate(false); }, 3, 1);
    const double checkpointed = bench::bestSeconds([&] { calibrate(true); }, 3);
    std::cout << nlohmann::json{{"benchmark", "checkpoint"},
                                {"model", model},
                                {"samples", samples},
                                {"seq_len", seqLen},
                                {"plain_seconds", plain},
                                {"checkpointed_seconds", checkpointed},
                                {"ratio", checkpointed / plain},
                                {"checkpoint_bytes_at_end", largest},
                                {"target_ratio", 1.15}}
                     .dump(2)
              << "\n";
    return 0;
}
