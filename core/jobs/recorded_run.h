#pragma once
// The life of a run once the catalog has it (calibrate, adapt): its directory, its job lock,
// config.json, the statuses running → finished / cancelled / failed with its seconds. Torch-free.

#include "store/workspace.h"
#include "util/stopwatch.h"

#include <functional>
#include <string>

namespace core {

/// Runs `body` on run `runId`, just created in `workspace` with `configJson`: creates the run's
/// directory, holds its job lock until the final status is written (store/run_lock.h), writes
/// config.json and marks the run running; then marks it finished with the seconds since
/// `stopwatch` started (returned), cancelled (rethrows core::Cancelled) or failed (throws
/// core::Error "run N failed: ..."), keeping whatever `body` stored.
double executeRecordedRun(Workspace& workspace, std::int64_t runId, const std::string& configJson,
                          const Stopwatch& stopwatch, const std::function<void()>& body);

} // namespace core
