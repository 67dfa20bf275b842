#pragma once
// Walking a stream of calibration windows in batches: the loop every block pass shares (run
// the block, observe its Linears, advance the stream), with a cancel check per batch.

#include "util/cancel_token.h"

#include <algorithm>
#include <cstdint>

namespace core {

/// Calls `body(first, count)` for consecutive batches of at most `batchSize` of `samples`
/// items, checking `cancel` before each (throws core::Cancelled).
template <typename Body>
void forEachBatch(std::int64_t samples, std::int64_t batchSize, const CancelToken& cancel, Body&& body)
{
    const std::int64_t step = std::max<std::int64_t>(1, batchSize);
    for (std::int64_t first = 0; first < samples; first += step) {
        cancel.throwIfCancelled();
        body(first, std::min(step, samples - first));
    }
}

} // namespace core
