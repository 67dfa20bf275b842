#pragma once
// Perplexity of a working model after the pipeline calibrated it.

#include "model/decoder_model.h"

#include <string>
#include <vector>

namespace testsupport {

/// `model` (as the pipeline left it) on the first `maxWindows` windows of 512 tokens of `ids`.
double perplexityOf(const core::DecoderModel& model, const std::vector<std::int64_t>& ids, std::int64_t maxWindows);

} // namespace testsupport
