#pragma once
// The fixture of the tests that run whole calibration jobs: a tiny LLaMA with its tokenizer,
// a calibration text and a held-out text, and the small run config over them.

#include "config/run_config.h"

#include <string>

namespace testsupport {

struct SmallRunFiles {
    std::string model, calibrationText, evalText;
};

/// Writes the tiny model (writeTinyLlamaWithTokenizer with `seed`) and the two texts into `dir`.
SmallRunFiles writeSmallRunFiles(const std::string& dir, unsigned seed);

/// `method` with its defaults on those files: W3 g16, 6 calibration windows of 32 tokens in
/// batches of 4, evaluation windows of 32 tokens.
core::RunConfig smallRunConfig(const SmallRunFiles& files, const std::string& method);

/// The perplexity `quantscope eval` reports for the model directory `modelDir` (an export) on
/// `text` in windows of `seqLen` tokens.
double perplexityOfDirectory(const std::string& modelDir, const std::string& text, std::int64_t seqLen);

} // namespace testsupport
