// bench_7b_block: one LLaMA-2-7B-shaped block (hidden 4096, SwiGLU 11008, 32 heads of 128;
// random weights) calibrated with GPTQ W4 g128 as the pipeline runs a block: the FP stream's
// advance (the targets), the method on the quantized stream, the quantized stream's advance.
// Reports peak resident memory (target < 12 GiB at 16 × 2048 tokens) and seconds, split into
// the data-proportional part (forwards, Hessians) and the per-Linear GPTQ solves, and their
// extrapolation to the full model (32 blocks × 128 samples): the data part scales with the
// samples, the solves do not. Prints one JSON object.
//   bench_7b_block [SAMPLES=16] [SEQ_LEN=2048] [BATCH=2]   e.g. `bench_7b_block 2 2048` for a quick look

#include "bench_timing.h"
#include "calib/calibration_method.h"
#include "jobs/runtime.h"
#include "model/weight_layout.h"
#include "util/batches.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace {

// The block's outputs over `stream`, in place, batch by batch (as the pipeline advances).
void advance(const core::ModelConfig& config, const core::BlockWeights& block, torch::Tensor& stream,
             const core::AttentionContext& attention, std::int64_t batch, const core::CancelToken& cancel)
{
    core::forEachBatch(stream.size(0), batch, cancel, [&](std::int64_t first, std::int64_t count) {
        torch::Tensor slice = stream.narrow(0, first, count);
        slice.copy_(core::decoderBlock(config, block, slice, attention, core::blockPrefix(config, 0)));
    });
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    torch::NoGradGuard noGrad;
    const std::int64_t samples = argc > 1 ? std::stoll(argv[1]) : 16;
    const std::int64_t seqLen = argc > 2 ? std::stoll(argv[2]) : 2048;
    const std::int64_t batch = argc > 3 ? std::stoll(argv[3]) : 2;
    const std::int64_t hidden = 4096, ff = 11008, heads = 32, modelBlocks = 32, modelSamples = 128;
    const core::ModelConfig config = core::parseModelConfig(nlohmann::json{{"model_type", "llama"},
                                                                           {"hidden_size", hidden},
                                                                           {"intermediate_size", ff},
                                                                           {"num_hidden_layers", 1},
                                                                           {"num_attention_heads", heads},
                                                                           {"vocab_size", 32000},
                                                                           {"max_position_embeddings", 4096}}
                                                                .dump(),
                                                            "7b block config");
    torch::manual_seed(0);
    core::BlockWeights fp;
    for (const auto& spec : core::blockTensorSpecs(config))
        fp.tensors[spec.name] = spec.shape.size() == 1 ? torch::ones(spec.shape) : torch::randn(spec.shape) * 0.02;
    const core::AttentionContext attention(config, seqLen, torch::kCPU);
    const core::CancelToken cancel;

    const bench::CpuTimes start = bench::cpuTimesNow();
    torch::Tensor fpStream = torch::randn({samples, seqLen, hidden});
    torch::Tensor quantizedStream = fpStream.clone();
    advance(config, fp, fpStream, attention, batch, cancel); // the FP targets

    core::BlockWeights quantized = fp;
    std::vector<core::LayerMetrics> layers;
    std::map<std::string, core::QuantizedLinear> stored;
    std::map<std::string, torch::Tensor> hessians;
    core::WeightQuantSpec spec;
    spec.bits = 4;
    spec.groupSize = 128;
    core::BlockCalibrationContext ctx{config,
                                      0,
                                      core::blockPrefix(config, 0),
                                      quantized,
                                      quantizedStream,
                                      fpStream,
                                      attention,
                                      spec,
                                      cancel,
                                      batch,
                                      {},
                                      layers,
                                      stored,
                                      hessians};
    core::createCalibrationMethod("gptq")->calibrateBlock(ctx);
    advance(config, quantized, quantizedStream, attention, batch, cancel);
    const bench::CpuTimes end = bench::cpuTimesNow();

    double solveSeconds = 0.0;
    for (const auto& layer : layers)
        solveSeconds += layer.seconds;
    const double blockSeconds = end.wall - start.wall;
    const double dataSeconds = blockSeconds - solveSeconds;
    const double modelSeconds =
        static_cast<double>(modelBlocks) *
        (solveSeconds + dataSeconds * static_cast<double>(modelSamples * 2048) / static_cast<double>(samples * seqLen));
    const nlohmann::json report{{"benchmark", "bench_7b_block"},
                                {"method", "gptq w4g128"},
                                {"threads", torch::get_num_threads()},
                                {"samples", samples},
                                {"seq_len", seqLen},
                                {"batch_size", batch},
                                {"block_seconds", blockSeconds},
                                {"gptq_solve_seconds", solveSeconds},
                                {"data_seconds", dataSeconds},
                                {"peak_resident_gib", bench::peakResidentMib() / 1024.0},
                                {"target_peak_resident_gib", 12},
                                {"streams_gib", 2.0 * samples * seqLen * hidden * 4.0 / (1024.0 * 1024.0 * 1024.0)},
                                {"extrapolated_32_blocks_128x2048_hours", modelSeconds / 3600.0},
                                {"mean_rel_error", [&] {
                                     double sum = 0.0;
                                     for (const auto& layer : layers)
                                         sum += layer.relativeError;
                                     return sum / static_cast<double>(layers.size());
                                 }()}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
