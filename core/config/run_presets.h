#pragma once
// Named run configurations (issue 16 §4): the OAC variants of the paper and their baselines, as
// partial run configs. The CLI's `calibrate --preset NAME` and the form's preset box apply the
// same table; flags and the form's fields then override it. Torch-free.

#include <string>
#include <vector>

namespace core {

struct RunPreset {
    std::string name;        ///< "oac-2bit"
    std::string description; ///< one line, for help texts
    std::string json;        ///< the run config keys it sets (a JSON object)
};

const std::vector<RunPreset>& runPresets();
/// Throws core::Error listing the preset names when `name` is unknown.
const RunPreset& runPreset(const std::string& name);
/// "oac-2bit, oac-binary, ...": the names for errors and help texts.
std::string runPresetNameList();

} // namespace core
