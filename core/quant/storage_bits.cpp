#include "quant/storage_bits.h"

#include <cmath>

namespace core {
namespace {

constexpr double kHalfBits = 16.0;
constexpr double kOutlierBits = 32.0;    // 16-bit value + 16-bit column index
constexpr double kGroupIndexBits = 32.0; // int32 g_idx per input column

} // namespace

double storedBits(const QuantizedLinear& stored)
{
    if (!std::isnan(stored.methodBits))
        return stored.methodBits;
    const double rows = static_cast<double>(stored.rows());
    const double columns = static_cast<double>(stored.columns());
    const double groups = static_cast<double>(stored.groups());
    double bits = stored.spec.bits * rows * columns;
    if (stored.statisticBits > 0) {
        bits += rows * groups * 2.0 * stored.statisticBits;
        const double secondLevelGroups =
            std::ceil(rows / static_cast<double>(std::max<std::int64_t>(1, stored.statisticGroupSize))) * groups;
        bits += secondLevelGroups * 4.0 * kHalfBits;
    } else {
        bits += rows * groups * (kHalfBits + (stored.spec.symmetric ? 0.0 : stored.spec.bits));
    }
    if (stored.hasScatteredGroups())
        bits += kGroupIndexBits * columns;
    bits += kOutlierBits * static_cast<double>(stored.outliers());
    return bits;
}

double effectiveBitsPerWeight(const QuantizedLinear& stored)
{
    return storedBits(stored) / static_cast<double>(stored.codes.numel());
}

} // namespace core
