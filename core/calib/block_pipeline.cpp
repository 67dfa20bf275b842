#include "calib/block_pipeline.h"

#include "diagnostics/diagnostics_recorder.h"
#include "model/weight_layout.h"
#include "util/batches.h"
#include "util/stopwatch.h"

namespace core {
namespace {

// Replaces `stream` [samples, T, H] by the block's outputs, batch by batch, in place:
// samples are independent, so each batch's inputs can be overwritten as soon as
// its outputs exist. Keeps the pipeline at two streams (ARCHITECTURE.md).
void advanceStream(const ModelConfig& config, const BlockWeights& weights, torch::Tensor& stream,
                   const AttentionContext& attention, const std::string& prefix, std::int64_t batchSize,
                   const CancelToken& cancel, const ForwardHooks* hooks = nullptr)
{
    forEachBatch(stream.size(0), batchSize, cancel, [&](std::int64_t first, std::int64_t count) {
        torch::Tensor batch = stream.narrow(0, first, count);
        batch.copy_(decoderBlock(config, weights, batch, attention, prefix, hooks));
    });
}

// Runs the block over `stream` only to show its Linears' inputs to the hooks' observers.
void observeStream(const ModelConfig& config, const BlockWeights& weights, const torch::Tensor& stream,
                   const AttentionContext& attention, const std::string& prefix, std::int64_t batchSize,
                   const CancelToken& cancel, const ForwardHooks& hooks)
{
    forEachBatch(stream.size(0), batchSize, cancel, [&](std::int64_t first, std::int64_t count) {
        decoderBlock(config, weights, stream.narrow(0, first, count), attention, prefix, &hooks);
    });
}

} // namespace

PipelineResult runBlockPipeline(const DecoderModel& model, const torch::Tensor& calibrationIds,
                                CalibrationMethod& method, const PipelineOptions& options,
                                const ProgressCallback& onProgress, const CancelToken& cancel)
{
    torch::NoGradGuard noGrad; // methods that learn enable gradients locally
    const Stopwatch stopwatch;
    const ModelConfig& config = model.config();
    const AttentionContext attention(config, calibrationIds.size(1), model.device());
    torch::Tensor fpStream = model.embed(calibrationIds);
    torch::Tensor quantizedStream = fpStream.clone();

    PipelineResult result;
    const double blocks = static_cast<double>(config.numLayers);
    for (std::int64_t i = 0; i < config.numLayers; ++i) {
        cancel.throwIfCancelled();
        const std::string prefix = blockPrefix(config, i);
        DiagnosticsRecorder* diagnostics = options.diagnostics;
        const BlockWeights fpWeights = model.block(i); // shallow copy: stays valid without keepResident
        if (diagnostics) {
            diagnostics->beginBlock(i, prefix, fpWeights);
            const std::int64_t rangeSamples = std::min(DiagnosticsRecorder::kRangeSamples, fpStream.size(0));
            observeStream(config, fpWeights, fpStream.narrow(0, 0, rangeSamples), attention, prefix, options.batchSize,
                          cancel, diagnostics->fpRangeObserver());
        }
        // The FP stream becomes this block's FP outputs: the targets of calibration.
        advanceStream(config, fpWeights, fpStream, attention, prefix, options.batchSize, cancel,
                      diagnostics ? &diagnostics->fpCountObserver() : nullptr);
        const torch::Tensor& targets = fpStream;
        BlockWeights quantized = fpWeights; // shallow copy: methods assign new tensors
        std::vector<LayerMetrics> layers;
        std::map<std::string, QuantizedLinear> stored;
        std::map<std::string, torch::Tensor> hessians;
        BlockLossCurve lossCurve;
        BlockCalibrationContext ctx{config,    i,         prefix,       quantized, quantizedStream,
                                    targets,   attention, options.spec, cancel,    options.batchSize,
                                    {},        layers,    stored,       hessians,  &model.globals(),
                                    &lossCurve};
        ctx.onStep = [&](const std::string& step, double fraction,
                         const std::vector<std::pair<std::string, double>>& values) {
            reportProgress(onProgress, {"calibrate", (static_cast<double>(i) + fraction) / blocks,
                                        "block " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers) +
                                            ": " + method.name() + " " + step,
                                        values});
        };
        method.calibrateBlock(ctx);
        advanceStream(config, quantized, quantizedStream, attention, prefix, options.batchSize, cancel,
                      diagnostics ? &diagnostics->quantizedObserver() : nullptr);
        std::vector<LayerMetric> diagnosticMetrics;
        if (diagnostics) {
            ctx.onStep("diagnostics", 1.0, {});
            diagnosticMetrics = diagnostics->finishBlock(quantized, fpStream, quantizedStream, hessians);
        }
        // A non-Linear tensor that is no longer the model's own was folded by the method.
        std::map<std::string, torch::Tensor> folded;
        for (const auto& [name, tensor] : quantized.tensors) {
            const bool quantizedWeight =
                name.ends_with(".weight") && stored.count(prefix + name.substr(0, name.size() - 7));
            if (!quantizedWeight && !tensor.is_same(fpWeights.at(name)))
                folded[prefix + name] = tensor;
        }
        if (options.onBlockFinished)
            options.onBlockFinished(BlockOutcome{i, quantized, layers, stored, diagnosticMetrics, lossCurve, folded});
        result.layers.insert(result.layers.end(), layers.begin(), layers.end());
        result.quantizedBlocks.push_back(std::move(quantized));
        reportProgress(onProgress,
                       {"calibrate", static_cast<double>(i + 1) / blocks,
                        "block " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers) + " done"});
    }
    result.seconds = stopwatch.seconds();
    return result;
}

} // namespace core
