#pragma once
// What calibration measured for one Linear. Torch-free, so CLI and GUI code can use it.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace core {

struct LayerMetrics {
    std::string name;           ///< HF layer name, e.g. "model.layers.3.mlp.down_proj"
    std::int64_t block = 0;     ///< decoder block index
    double relativeError = 0.0; ///< ‖WX − ŴX‖² / ‖WX‖² on the calibration inputs it saw
    double sqnrDb = 0.0;        ///< weight SQNR
    double seconds = 0.0;
    /// Bits per weight of the stored form (quant/storage_bits.h), set by the pipeline.
    double effectiveBits = std::numeric_limits<double>::quiet_NaN();
    std::int64_t weights = 0; ///< rows · cols
};

/// Bits per weight of the model's stored Linears together: Σ bits / Σ weights over the Linears
/// with effective bits; NaN when none has them.
inline double modelEffectiveBits(const std::vector<LayerMetrics>& layers)
{
    double bits = 0.0, weights = 0.0;
    for (const LayerMetrics& layer : layers)
        if (!std::isnan(layer.effectiveBits) && layer.weights > 0) {
            bits += layer.effectiveBits * static_cast<double>(layer.weights);
            weights += static_cast<double>(layer.weights);
        }
    return weights > 0 ? bits / weights : std::numeric_limits<double>::quiet_NaN();
}

} // namespace core
