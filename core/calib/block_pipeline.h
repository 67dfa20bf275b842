#pragma once
// The calibration pipeline (ARCHITECTURE.md, "Calibration pipeline"; issue 15 §2). A method's
// optional prepareModel stage runs on the FP working model; then a full-precision (FP) stream
// and a quantized stream advance block by block: the method calibrates block i on the
// quantized stream's inputs (the outputs of the already quantized blocks 0..i−1, with the
// run's activation/KV fake-quant) against the FP block's outputs on FP inputs, and the
// calibrated block replaces the FP one in the working model at once; then the optional
// finishModel stage runs on the quantized model.
// Memory: the two activation streams plus one copy of the weights (each block is FP until it
// is calibrated, quantized after), never an FP model beside a quantized one.

#include "calib/calibration_method.h"
#include "model/decoder_model.h"
#include "store/catalog.h"
#include "util/progress.h"

namespace core {

class DiagnosticsRecorder;
class PipelineCheckpoint;

/// What one finished block produced, handed to PipelineOptions::onBlockFinished.
struct BlockOutcome {
    std::int64_t blockIndex = 0;
    const BlockWeights& quantized;                        ///< dequantized float32 weights
    const std::vector<LayerMetrics>& layers;              ///< this block's Linears
    const std::map<std::string, QuantizedLinear>& stored; ///< codes + grids, by layer name
    const std::vector<LayerMetric>& diagnostics;          ///< diagnostics scalars (empty without a recorder)
    const BlockLossCurve& lossCurve;                      ///< per-step losses of learning methods (else empty)
    /// Non-Linear tensors the method replaced (LET folds scales into the norms), by full name.
    const std::map<std::string, torch::Tensor>& folded;
};

struct PipelineOptions {
    WeightQuantSpec spec;
    std::int64_t batchSize = 8; ///< calibration samples per forward pass
    /// The run's activation/KV fake-quant (quant/activation_quantizer.h): every forward of the
    /// quantized stream carries it. Empty: weight-only.
    ForwardHooks streamHooks;
    /// Called on the pipeline's thread after each block, so results can be written
    /// (and shown) as they come; a cancelled run keeps what was handed out here.
    std::function<void(const BlockOutcome&)> onBlockFinished;
    /// Called when a model-level stage replaced global weights or a block (ModelContext::Sink).
    ModelContext::Sink onModelChanged;
    /// Records diagnostics of every block when set (one more FP pass per block over at
    /// most DiagnosticsRecorder::kRangeSamples windows, to fix the histogram edges).
    DiagnosticsRecorder* diagnostics = nullptr;
    /// Saves the pipeline's state after prepareModel and after every block when set; when it
    /// holds a committed checkpoint already, the pipeline restores it and goes on from there
    /// (prepareModel and the finished blocks are not run again, their callbacks not called).
    PipelineCheckpoint* checkpoint = nullptr;
};

struct PipelineResult {
    std::vector<LayerMetrics> layers;
    double seconds = 0.0;
};

/// The tensors of calibrated block `quantized` (prefix "model.layers.3.") that a method folded:
/// every non-Linear tensor that is no longer `fpWeights`' own (LET's norms, a shift's new bias),
/// by full name; the stored Linears' weights are not among them.
std::map<std::string, torch::Tensor> foldedTensors(const BlockWeights& fpWeights, const BlockWeights& quantized,
                                                   const std::map<std::string, QuantizedLinear>& stored,
                                                   const std::string& prefix);

/// Calibrates `workingModel` on `calibrationIds` [samples, T] with `method`: when it returns,
/// every block of the working model is the calibrated one (and the globals whatever the
/// method's model-level stages made them). Progress: stage "calibrate", one event per block
/// sub-step. Checks `cancel` at least once per sub-step and throws core::Cancelled (the working
/// model is then partly calibrated).
PipelineResult runBlockPipeline(DecoderModel& workingModel, const torch::Tensor& calibrationIds,
                                CalibrationMethod& method, const PipelineOptions& options,
                                const ProgressCallback& onProgress = {}, const CancelToken& cancel = {});

} // namespace core
