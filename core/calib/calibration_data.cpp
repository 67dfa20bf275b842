#include "calib/calibration_data.h"

#include "util/error.h"

#include <random>

namespace core {

CalibrationWindows drawCalibrationWindows(const std::vector<std::int64_t>& tokens, std::int64_t samples,
                                          std::int64_t seqLen, std::uint64_t seed)
{
    if (samples < 1)
        throw Error("calibration.samples must be at least 1 (got " + std::to_string(samples) + ")");
    if (seqLen < 2)
        throw Error("calibration.seq_len must be at least 2 (got " + std::to_string(seqLen) + ")");
    const auto count = static_cast<std::int64_t>(tokens.size());
    if (count < seqLen + 1)
        throw Error("calibration text has " + std::to_string(count) + " tokens, fewer than one window of " +
                    std::to_string(seqLen) + " + 1");
    std::mt19937_64 generator(seed);
    std::uniform_int_distribution<std::int64_t> offset(0, count - seqLen - 1);
    CalibrationWindows windows;
    windows.ids = torch::empty({samples, seqLen}, torch::kInt64);
    auto* out = windows.ids.data_ptr<std::int64_t>();
    for (std::int64_t s = 0; s < samples; ++s) {
        const std::int64_t start = offset(generator);
        windows.offsets.push_back(start);
        std::copy(tokens.begin() + start, tokens.begin() + start + seqLen, out + s * seqLen);
    }
    return windows;
}

} // namespace core
