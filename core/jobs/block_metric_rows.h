#pragma once
// The catalog rows a calibrated block leaves: each Linear's metrics and, for learning methods,
// the block's loss-curve summary. Written by calibrate as blocks finish and by adapt for the block
// it re-quantizes. Torch-free.

#include "calib/layer_metrics.h"
#include "loss/loss_curve.h"
#include "store/catalog.h"

#include <vector>

namespace core {

/// rel_error, sqnr_db, seconds and (when known) effective_bits of every Linear in `layers`; with a
/// non-empty `curve`, loss_first_epoch, loss_last_epoch and loss_last_epoch_<term> of the block
/// `blockIndex`, named by its prefix without the dot ("model.layers.3").
std::vector<LayerMetric> blockMetricRows(const std::vector<LayerMetrics>& layers, const std::string& blockName,
                                         std::int64_t blockIndex, const BlockLossCurve& curve);

} // namespace core
