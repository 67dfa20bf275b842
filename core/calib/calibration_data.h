#pragma once
// Calibration windows: `samples` windows of `seqLen` tokens at random offsets of
// the tokenized calibration text, drawn with the run seed (as the GPTQ reference
// get_wikitext2/get_c4 do with random.randint). The offsets are returned so a run
// can be reproduced exactly by any other tool.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace core {

struct CalibrationWindows {
    torch::Tensor ids;                 ///< [samples, seqLen] int64
    std::vector<std::int64_t> offsets; ///< start token of each window in the tokenized text
};

/// Offsets are uniform in [0, tokens − seqLen − 1] from std::mt19937_64(seed).
/// Throws core::Error when the text is shorter than seqLen + 1 tokens or samples < 1.
CalibrationWindows drawCalibrationWindows(const std::vector<std::int64_t>& tokens, std::int64_t samples,
                                          std::int64_t seqLen, std::uint64_t seed);

} // namespace core
