#include "quant/storage_bits.h"

#include <algorithm>
#include <cmath>

namespace core {
namespace {

constexpr double kHalfBits = 16.0;
constexpr double kOutlierBits = 32.0;    // 16-bit value + 16-bit column index
constexpr double kGroupIndexBits = 32.0; // int32 g_idx per input column

/// An integer zero point packs at the weights' bits; a fractional one (SpQR's unrounded zero)
/// is a 16-bit float; a symmetric grid stores none.
double zeroBits(const QuantizedLinear& stored)
{
    if (stored.spec.symmetric)
        return 0.0;
    const bool integral = torch::equal(stored.zero, torch::round(stored.zero));
    return integral ? stored.spec.bits : kHalfBits;
}

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
        // A symmetric grid's zero is the fixed midpoint: only the scale is stored.
        const double statistics = stored.spec.symmetric ? 1.0 : 2.0;
        bits += rows * groups * statistics * stored.statisticBits;
        const double secondLevelGroups =
            std::ceil(rows / static_cast<double>(std::max<std::int64_t>(1, stored.statisticGroupSize))) * groups;
        bits += secondLevelGroups * statistics * 2.0 * kHalfBits;
    } else {
        bits += rows * groups * (kHalfBits + zeroBits(stored));
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
