#pragma once
// Where diagnostics live inside runs/<id>/artifacts.h5 (documented in the README).
// One group per layer name; Linears and blocks ("model.layers.3") alike.

#include <string>

namespace core::diagnostics_layout {

inline std::string layerGroup(const std::string& layer)
{
    return "/layers/" + layer;
}
inline std::string inputHistogram(const std::string& layer)
{
    return layerGroup(layer) + "/input_hist";
}
inline std::string inputChannels(const std::string& layer)
{
    return layerGroup(layer) + "/input_channels";
}
inline std::string weightHistogram(const std::string& layer)
{
    return layerGroup(layer) + "/weight_hist";
}
inline std::string qsurGroup(const std::string& layer)
{
    return layerGroup(layer) + "/qsur";
}
inline std::string saliencyGroup(const std::string& layer)
{
    return layerGroup(layer) + "/saliency";
}
/// The same maps under OAC's output-adaptive Ĥ (runs whose method quantized with it).
inline std::string outputAdaptiveSaliencyGroup(const std::string& layer)
{
    return layerGroup(layer) + "/saliency_oac";
}
/// The rotation methods' before/after picture of a Linear's FP input (row 0: the original
/// basis, row 1: after the transforms), as a histogram pair on shared edges and the per-channel
/// absmax [2, channels]. QSUR before the transforms sits in qsurGroup as input_before/weight_before.
inline std::string rotationInputHistogram(const std::string& layer)
{
    return layerGroup(layer) + "/rotation/input_hist";
}
inline std::string rotationInputAbsMax(const std::string& layer)
{
    return layerGroup(layer) + "/rotation/input_absmax";
}
inline std::string outputHistogram(const std::string& block)
{
    return layerGroup(block) + "/output_hist";
}
inline std::string projectionGroup(const std::string& block)
{
    return layerGroup(block) + "/sw";
}
inline const char* kDirections = "/diagnostics/directions";

} // namespace core::diagnostics_layout
