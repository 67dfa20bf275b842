#pragma once
// The sequential block pipeline (ARCHITECTURE.md, "Calibration pipeline"): a
// full-precision (FP) stream and a quantized stream advance block by block; the
// method calibrates block i on the quantized stream's inputs (the outputs of the
// already quantized blocks 0..i−1) against the FP block's outputs on FP inputs.
// Memory: the two activation streams plus one block's weights at a time.

#include "calib/calibration_method.h"
#include "model/decoder_model.h"
#include "store/catalog.h"
#include "util/progress.h"

namespace core {

class DiagnosticsRecorder;

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
    /// Called on the pipeline's thread after each block, so results can be written
    /// (and shown) as they come; a cancelled run keeps what was handed out here.
    std::function<void(const BlockOutcome&)> onBlockFinished;
    /// Records diagnostics of every block when set (one more FP pass per block over at
    /// most DiagnosticsRecorder::kRangeSamples windows, to fix the histogram edges).
    DiagnosticsRecorder* diagnostics = nullptr;
};

struct PipelineResult {
    std::vector<LayerMetrics> layers;
    std::vector<BlockWeights> quantizedBlocks; ///< one per block, dequantized float32
    double seconds = 0.0;
};

/// Calibrates every block of `model` on `calibrationIds` [samples, T] with `method`.
/// Progress: stage "calibrate", one event per block sub-step. Checks `cancel` at
/// least once per sub-step and throws core::Cancelled. The model itself is not modified.
PipelineResult runBlockPipeline(const DecoderModel& model, const torch::Tensor& calibrationIds,
                                CalibrationMethod& method, const PipelineOptions& options,
                                const ProgressCallback& onProgress = {}, const CancelToken& cancel = {});

} // namespace core
