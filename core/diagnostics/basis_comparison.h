#pragma once
// What a rotation method's transforms do to each Linear's inputs and weights (issue 17 §6): the
// original FP model and the transformed FP model run side by side, block by block, over the
// first calibration windows; for every Linear the input in the original basis is compared with
// the input the transformed model feeds it (after the residual rotation, the scalings and the
// online Hadamard): QSUR of the input and of the weight rows before the transforms, and the
// input's histogram and per-channel absmax before and after (the flattening of outlier
// channels). The block loop's diagnostics then record the transformed model as usual ("after").

#include "config/run_config.h"
#include "model/decoder_model.h"
#include "store/artifact_file.h"
#include "store/catalog.h"
#include "util/cancel_token.h"

#include <vector>

namespace core {

/// Records into `artifacts` (diagnostics_layout.h: qsur/input_before, qsur/weight_before,
/// rotation/input_hist, rotation/input_absmax) and returns the scalars per Linear:
/// qsur_input_before, qsur_weight_before, input_absmax_ratio_before, input_absmax_ratio_rotated.
/// `windows` [n, T] are the calibration windows to run (the first DiagnosticsRecorder::kRangeSamples).
std::vector<LayerMetric> recordBasisComparison(const DecoderModel& original,
                                               const std::vector<BlockWeights>& transformed,
                                               const GlobalWeights& transformedGlobals, const torch::Tensor& windows,
                                               const AttentionContext& attention, const DiagnosticsConfig& config,
                                               ArtifactFile& artifacts, const CancelToken& cancel);

} // namespace core
