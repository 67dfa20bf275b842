#pragma once

#include <cstdint>
#include <vector>

namespace core {

/// Number of elements of a tensor of `shape` (1 for a scalar).
inline std::int64_t shapeNumel(const std::vector<std::int64_t>& shape)
{
    std::int64_t count = 1;
    for (auto dim : shape)
        count *= dim;
    return count;
}

} // namespace core
