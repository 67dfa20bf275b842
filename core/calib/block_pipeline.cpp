#include "calib/block_pipeline.h"

#include "model/weight_layout.h"

#include <chrono>

namespace core {
namespace {

torch::Tensor runBlockBatched(const ModelConfig& config, const BlockWeights& weights, const torch::Tensor& inputs,
                              const AttentionContext& attention, const std::string& prefix, std::int64_t batchSize,
                              const CancelToken& cancel)
{
    std::vector<torch::Tensor> outputs;
    for (std::int64_t first = 0; first < inputs.size(0); first += batchSize) {
        cancel.throwIfCancelled();
        const std::int64_t count = std::min(batchSize, inputs.size(0) - first);
        outputs.push_back(decoderBlock(config, weights, inputs.narrow(0, first, count), attention, prefix));
    }
    return torch::cat(outputs, 0);
}

} // namespace

PipelineResult runBlockPipeline(const DecoderModel& model, const torch::Tensor& calibrationIds,
                                CalibrationMethod& method, const PipelineOptions& options,
                                const ProgressCallback& onProgress, const CancelToken& cancel)
{
    torch::NoGradGuard noGrad; // methods that learn enable gradients locally
    const auto start = std::chrono::steady_clock::now();
    const ModelConfig& config = model.config();
    const AttentionContext attention(config, calibrationIds.size(1), model.device());
    torch::Tensor fpStream = model.embed(calibrationIds);
    torch::Tensor quantizedStream = fpStream.clone();

    PipelineResult result;
    const double blocks = static_cast<double>(config.numLayers);
    for (std::int64_t i = 0; i < config.numLayers; ++i) {
        cancel.throwIfCancelled();
        const std::string prefix = blockPrefix(config, i);
        const torch::Tensor targets =
            runBlockBatched(config, model.block(i), fpStream, attention, prefix, options.batchSize, cancel);
        BlockWeights quantized = model.block(i); // shallow copy: methods assign new tensors
        std::vector<LayerMetrics> layers;
        std::map<std::string, QuantizedLinear> stored;
        BlockCalibrationContext ctx{config,   i,      prefix,       quantized,      quantizedStream,
                                    targets,  attention, options.spec, cancel,      options.batchSize,
                                    {},       layers, stored};
        ctx.onStep = [&](const std::string& step, double fraction) {
            reportProgress(onProgress, {"calibrate", (static_cast<double>(i) + fraction) / blocks,
                                        "block " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers) +
                                            ": " + method.name() + " " + step});
        };
        method.calibrateBlock(ctx);
        quantizedStream =
            runBlockBatched(config, quantized, quantizedStream, attention, prefix, options.batchSize, cancel);
        fpStream = targets;
        if (options.onBlockFinished)
            options.onBlockFinished(BlockOutcome{i, quantized, layers, stored});
        result.layers.insert(result.layers.end(), layers.begin(), layers.end());
        result.quantizedBlocks.push_back(std::move(quantized));
        reportProgress(onProgress, {"calibrate", static_cast<double>(i + 1) / blocks,
                                    "block " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers) +
                                        " done"});
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

} // namespace core
