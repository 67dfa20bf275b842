#include "loss/loss_curve.h"

#include <limits>

namespace core {

double BlockLossCurve::epochMean(std::int64_t epoch, std::size_t column) const
{
    const auto steps64 = static_cast<std::int64_t>(steps.size());
    const std::int64_t perEpoch = stepsPerEpoch > 0 ? stepsPerEpoch : steps64;
    if (perEpoch == 0)
        return std::numeric_limits<double>::quiet_NaN();
    const std::int64_t epochs = (steps64 + perEpoch - 1) / perEpoch;
    if (epoch < 0)
        epoch += epochs;
    if (epoch < 0 || epoch >= epochs || column > terms.size())
        return std::numeric_limits<double>::quiet_NaN();
    const std::int64_t first = epoch * perEpoch, last = std::min(steps64, first + perEpoch);
    double sum = 0.0;
    for (std::int64_t s = first; s < last; ++s)
        sum += steps[static_cast<std::size_t>(s)].at(column);
    return sum / static_cast<double>(last - first);
}

} // namespace core
