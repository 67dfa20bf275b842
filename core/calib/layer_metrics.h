#pragma once
// What calibration measured for one Linear. Torch-free, so CLI and GUI code can use it.

#include <cstdint>
#include <string>

namespace core {

struct LayerMetrics {
    std::string name;           ///< HF layer name, e.g. "model.layers.3.mlp.down_proj"
    std::int64_t block = 0;     ///< decoder block index
    double relativeError = 0.0; ///< ‖WX − ŴX‖² / ‖WX‖² on the calibration inputs it saw
    double sqnrDb = 0.0;        ///< weight SQNR
    double seconds = 0.0;
};

} // namespace core
