#pragma once
// Perplexity of a model with its blocks replaced by a pipeline's quantized blocks.

#include "calib/block_pipeline.h"

#include <string>
#include <vector>

namespace testsupport {

/// The model in `modelDir` with `calibrated.quantizedBlocks`, on the first `maxWindows`
/// windows of 512 tokens of `ids`.
double perplexityWithBlocks(const std::string& modelDir, const core::PipelineResult& calibrated,
                            const std::vector<std::int64_t>& ids, std::int64_t maxWindows);

} // namespace testsupport
