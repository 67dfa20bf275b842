#pragma once
// `quantscope compare --group-seeds`: runs that differ only in their seed as one row each, every
// metric as mean ± std over the seeds with n: the table a paper prints, as Markdown (the
// experiments' READMEs paste it) or JSON.

#include "store/workspace.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace app {

/// `runIds` empty: every finished calibration of the workspace.
nlohmann::json seedGroupsJson(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds);
std::string seedGroupsMarkdown(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds);

} // namespace app
