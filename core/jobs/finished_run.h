#pragma once
// The checks every job that reuses a finished run needs (export, dump): the run
// finished, and the model it calibrated is still the one on disk. Torch-free.

#include "config/run_config.h"
#include "store/workspace.h"

#include <string>

namespace core {

struct FinishedRun {
    RunRecord record;
    RunConfig config;
};

/// Loads run `runId` for `job` (a verb for messages: "export", "dump"). Throws core::Error
/// when the run is unknown or not finished, or its model's fingerprint changed since.
FinishedRun loadFinishedRun(const Workspace& workspace, std::int64_t runId, const std::string& job);

} // namespace core
