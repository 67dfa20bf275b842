#pragma once
// `quantscope dump RUN --layer NAME --out FILE.h5`: the raw calibration inputs of one
// Linear as the run saw them — FP stream and quantized stream, float32 [tokens, channels]
// — for analysis in other tools. Recomputed from what the run stored (its config, the
// calibration offsets and the quantized codes of the blocks before the layer), so no
// run has to keep activations around. Torch-free interface.

#include "store/workspace.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <string>

namespace core {

struct DumpResult {
    std::string path;
    std::int64_t tokens = 0;
    std::int64_t channels = 0;
};

/// Writes /fp and /quantized (float32 [tokens, channels]) and /offsets to `outPath`
/// (created or truncated). Throws core::Error when the run is not finished, the layer
/// is not a Linear of the model, or the model or calibration text changed since the run.
DumpResult dumpLayerInputs(const Workspace& workspace, std::int64_t runId, const std::string& layer,
                           const std::string& outPath, const ProgressCallback& onProgress = {},
                           const CancelToken& cancel = {});

} // namespace core
