#include "jobs/recorded_run.h"

#include "store/run_lock.h"
#include "util/cancel_token.h"
#include "util/error.h"
#include "util/text_file.h"

#include <filesystem>
#include <optional>

namespace core {

double executeRecordedRun(Workspace& workspace, std::int64_t runId, const std::string& configJson,
                          const Stopwatch& stopwatch, const std::function<void()>& body)
{
    Catalog& catalog = workspace.catalog();
    std::optional<RunLock> lock; // held until the final status is written
    try {
        std::filesystem::create_directories(workspace.runDirectory(runId));
        lock.emplace(workspace.runDirectory(runId)); // before `running`: see run_lock.h
        writeFileAtomically(workspace.configPath(runId), configJson + "\n");
        catalog.setRunStatus(runId, RunStatus::Running);
        body();
        const double seconds = stopwatch.seconds();
        catalog.setRunSeconds(runId, seconds);
        catalog.setRunStatus(runId, RunStatus::Finished);
        return seconds;
    } catch (const Cancelled&) {
        catalog.setRunSeconds(runId, stopwatch.seconds());
        catalog.setRunStatus(runId, RunStatus::Cancelled);
        throw;
    } catch (const std::exception& e) {
        catalog.setRunSeconds(runId, stopwatch.seconds());
        catalog.setRunStatus(runId, RunStatus::Failed, e.what());
        throw Error("run " + std::to_string(runId) + " failed: " + e.what());
    }
}

} // namespace core
