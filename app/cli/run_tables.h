#pragma once
// Read-only views of a workspace's runs for the CLI: `runs list`, `runs show`,
// `compare`, as text tables or JSON.

#include "store/workspace.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace app {

nlohmann::json runsListJson(const core::Workspace& workspace);
void printRunsList(const core::Workspace& workspace);

nlohmann::json runShowJson(const core::Workspace& workspace, std::int64_t runId);
void printRunShow(const core::Workspace& workspace, std::int64_t runId);

/// Per-dataset perplexities and per-layer `metric` of several runs, with each
/// run's difference to the first one.
nlohmann::json compareJson(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds,
                           const std::string& metric);
void printCompare(const core::Workspace& workspace, const std::vector<std::int64_t>& runIds,
                  const std::string& metric);

} // namespace app
