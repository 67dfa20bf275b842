#pragma once
// Where the bundled default model and texts live. Torch-free.

#include <string>
#include <vector>

namespace core {

/// The resources/ directory: $QUANTSCOPE_RESOURCES if set, else the source
/// tree's resources/ baked in at build time, else ../share/quantscope next to the executable.
std::string resourceDirectory();

/// resources/models/brown-llama — the small LLaMA trained on the Brown corpus (issue 4).
std::string defaultModelDirectory();

/// resources/data/brown_calibration.txt — the calibration excerpt of the Brown train split.
std::string defaultCalibrationText();

/// The bundled held-out test texts (Brown test split and the KJV excerpt), those that exist.
std::vector<std::string> defaultEvalTexts();

} // namespace core
