#include "calib/block_pipeline.h"

#include "quant/storage_bits.h"

#include "calib/pipeline_checkpoint.h"

#include "diagnostics/diagnostics_recorder.h"
#include "model/weight_layout.h"
#include "util/batches.h"
#include "util/stopwatch.h"

#include <algorithm>
#include <optional>

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

// The FP passes of the diagnostics over a block's FP inputs: the range pass over the first
// windows, then (optionally) the counting pass, which the FP stream's advance does otherwise.
void observeFpInputs(const ModelConfig& config, const BlockWeights& fpWeights, const torch::Tensor& fpInputs,
                     const AttentionContext& attention, const std::string& prefix, std::int64_t batchSize,
                     const CancelToken& cancel, DiagnosticsRecorder& diagnostics, bool countToo)
{
    const std::int64_t rangeSamples = std::min(DiagnosticsRecorder::kRangeSamples, fpInputs.size(0));
    observeStream(config, fpWeights, fpInputs.narrow(0, 0, rangeSamples), attention, prefix, batchSize, cancel,
                  diagnostics.fpRangeObserver());
    if (countToo)
        observeStream(config, fpWeights, fpInputs, attention, prefix, batchSize, cancel, diagnostics.fpCountObserver());
}

} // namespace

std::map<std::string, torch::Tensor> foldedTensors(const BlockWeights& fpWeights, const BlockWeights& quantized,
                                                   const std::map<std::string, QuantizedLinear>& stored,
                                                   const std::string& prefix)
{
    std::map<std::string, torch::Tensor> folded;
    for (const auto& [name, tensor] : quantized.tensors)
        if (!isStoredLinearWeight(prefix, name, stored) &&
            !tensor.is_same(fpWeights.optional(name))) // new: a shift's bias
            folded[prefix + name] = tensor;
    return folded;
}

PipelineResult runBlockPipeline(DecoderModel& workingModel, const torch::Tensor& calibrationIds,
                                CalibrationMethod& method, const PipelineOptions& options,
                                const ProgressCallback& onProgress, const CancelToken& cancel)
{
    torch::NoGradGuard noGrad; // methods that learn enable gradients locally
    const Stopwatch stopwatch;
    const ModelConfig& config = workingModel.config();
    const double blocks = static_cast<double>(config.numLayers);
    ModelContext modelContext(workingModel, calibrationIds, options.spec, options.streamHooks, options.batchSize,
                              cancel, options.onModelChanged);
    // prepareModel takes the method's share of the progress, the block loop the rest.
    const double preparation = std::clamp(method.preparationShare(), 0.0, 1.0);
    const auto blockProgress = [&](double blocksDone) {
        return preparation + (1.0 - preparation) * blocksDone / blocks;
    };
    const auto stageReport = [&](const std::string& stage, double from, double share) {
        return [&, stage, from, share](const std::string& step, double fraction,
                                       const std::vector<std::pair<std::string, double>>& values) {
            reportProgress(onProgress, {"calibrate", from + share * std::clamp(fraction, 0.0, 1.0),
                                        method.name() + " " + stage + ": " + step, values});
        };
    };
    modelContext.onStep = stageReport("prepare", 0.0, preparation);
    PipelineCheckpoint* checkpoint = options.checkpoint;
    std::optional<PipelineResumePoint> resumed;
    if (checkpoint && checkpoint->exists()) {
        resumed = checkpoint->restore(workingModel);
        method.restoreStateForLaterBlocks(std::move(resumed->methodState));
    } else {
        method.prepareModel(modelContext);
        if (checkpoint)
            checkpoint->savePrepared(workingModel, modelContext.transformedBlocks(), modelContext.globalsReplaced(),
                                     method.stateForLaterBlocks());
    }

    const AttentionContext& attention = modelContext.attention();
    const std::int64_t firstBlock = resumed ? resumed->blocksDone : 0;
    torch::Tensor fpStream, quantizedStream;
    if (firstBlock > 0) {
        fpStream = std::move(resumed->fpStream);
        quantizedStream = std::move(resumed->quantizedStream);
    } else {
        fpStream = workingModel.embed(calibrationIds);
        quantizedStream = fpStream.clone();
    }
    // The rotation methods' GPTQ pass runs on unquantized activations (evaluation still applies them).
    const ForwardHooks noHooks;
    const ForwardHooks& calibrationHooks = method.calibratesOnUnquantizedActivations() ? noHooks : options.streamHooks;
    PipelineResult result;
    if (resumed)
        result.layers = std::move(resumed->layers);
    for (std::int64_t i = firstBlock; i < config.numLayers; ++i) {
        cancel.throwIfCancelled();
        const std::string prefix = blockPrefix(config, i);
        DiagnosticsRecorder* diagnostics = options.diagnostics;
        const BlockWeights fpWeights = workingModel.block(i); // shallow copy: stays valid when replaced
        // A method that changes the block's basis is compared in its basis, known only after
        // it ran: its FP inputs are kept until then (one more stream, for this block only).
        const bool laterFpObservation = diagnostics && method.changesBlockBasis();
        const torch::Tensor fpInputs = laterFpObservation ? fpStream.clone() : torch::Tensor();
        if (diagnostics && !laterFpObservation) {
            diagnostics->beginBlock(i, prefix, fpWeights);
            observeFpInputs(config, fpWeights, fpStream, attention, prefix, options.batchSize, cancel, *diagnostics,
                            false);
        }
        // The FP stream becomes this block's FP outputs: the targets of calibration.
        advanceStream(config, fpWeights, fpStream, attention, prefix, options.batchSize, cancel,
                      diagnostics && !laterFpObservation ? &diagnostics->fpCountObserver() : nullptr);
        const torch::Tensor& targets = fpStream;
        BlockWeights quantized = fpWeights; // shallow copy: methods assign new tensors
        std::vector<LayerMetrics> layers;
        std::map<std::string, QuantizedLinear> stored;
        std::map<std::string, torch::Tensor> hessians;
        BlockLossCurve lossCurve;
        BlockCalibrationContext ctx{config,    i,         prefix,       quantized, quantizedStream,
                                    targets,   attention, options.spec, cancel,    options.batchSize,
                                    {},        layers,    stored,       hessians,  &workingModel.globals(),
                                    &lossCurve};
        ctx.streamHooks = &calibrationHooks;
        ctx.model = &modelContext;
        ctx.onStep = [&](const std::string& step, double fraction,
                         const std::vector<std::pair<std::string, double>>& values) {
            reportProgress(onProgress, {"calibrate", blockProgress(static_cast<double>(i) + fraction),
                                        "block " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers) +
                                            ": " + method.name() + " " + step,
                                        values});
        };
        method.calibrateBlock(ctx);
        for (LayerMetrics& layer : layers)
            if (const auto found = stored.find(layer.name); found != stored.end()) {
                layer.effectiveBits = effectiveBitsPerWeight(found->second);
                layer.weights = found->second.codes.numel();
            }
        const BlockWeights& fpReference = ctx.fpReference ? *ctx.fpReference : fpWeights;
        if (laterFpObservation) {
            diagnostics->beginBlock(i, prefix, fpReference);
            observeFpInputs(config, fpReference, fpInputs, attention, prefix, options.batchSize, cancel, *diagnostics,
                            true);
        }
        const ForwardHooks quantizedHooks =
            diagnostics ? calibrationHooks.with(diagnostics->quantizedObserver()) : calibrationHooks;
        advanceStream(config, quantized, quantizedStream, attention, prefix, options.batchSize, cancel,
                      &quantizedHooks);
        std::vector<LayerMetric> diagnosticMetrics;
        if (diagnostics) {
            ctx.onStep("diagnostics", 1.0, {});
            diagnosticMetrics =
                diagnostics->finishBlock(quantized, fpStream, quantizedStream, hessians, ctx.outputAdaptiveHessians);
        }
        const auto folded = foldedTensors(fpWeights, quantized, stored, prefix);
        if (options.onBlockFinished)
            options.onBlockFinished(BlockOutcome{i, quantized, layers, stored, diagnosticMetrics, lossCurve, folded});
        result.layers.insert(result.layers.end(), layers.begin(), layers.end());
        workingModel.replaceBlock(i, std::move(quantized)); // the FP block is released here
        if (checkpoint) {
            ctx.onStep("checkpoint", 1.0, {});
            checkpoint->saveBlock(workingModel, i, fpStream, quantizedStream, method.stateForLaterBlocks(),
                                  result.layers);
        }
        reportProgress(onProgress,
                       {"calibrate", blockProgress(static_cast<double>(i + 1)),
                        "block " + std::to_string(i + 1) + "/" + std::to_string(config.numLayers) + " done"});
    }
    modelContext.onStep = stageReport("finish", 1.0, 0.0);
    method.finishModel(modelContext);
    result.seconds = stopwatch.seconds();
    return result;
}

} // namespace core
