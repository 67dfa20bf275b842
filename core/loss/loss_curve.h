#pragma once
// The per-step losses of one block of a learning method (torch-free: the GUI plots them).

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct BlockLossCurve {
    std::vector<std::string> terms;         ///< one name per loss term ("mse", "sw", ...)
    std::vector<std::vector<double>> steps; ///< per step: each term's unweighted value, then the weighted total
    std::int64_t stepsPerEpoch = 0;

    bool empty() const { return steps.empty(); }
    /// Mean of column `column` (a term index, or terms.size() for the total) over epoch
    /// `epoch` (negative: counted from the end). NaN when there is no such epoch.
    double epochMean(std::int64_t epoch, std::size_t column) const;
};

} // namespace core
