#pragma once
// Per input channel statistics of every Linear's input on the full-precision model, over all the
// calibration windows: PTQ1.61 picks its salient channels from them and LRQuant initializes its
// smoothing scales from them. Both papers' code collects them once, with input hooks on every
// Linear of the FP model running whole forwards (generate_act_scale_shift.py), not from the
// block-wise quantized stream.

#include "calib/model_context.h"

#include <map>
#include <string>

namespace core {

struct ChannelStatistics {
    torch::Tensor absMax;  ///< max_t |x_t,c| [cols], float32
    torch::Tensor absMean; ///< mean_t |x_t,c| [cols], float32 (mean over every token of every window)
};

/// The statistics of every Linear of every block, by full layer name ("model.layers.3.mlp.up_proj"),
/// from the FP working model (call it from prepareModel). Reports "channel statistics" through
/// model.onStep; checks cancel between batches.
std::map<std::string, ChannelStatistics> fpLinearInputStatistics(const ModelContext& model);

} // namespace core
