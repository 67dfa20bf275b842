#include "jobs/finished_run.h"

#include "util/error.h"
#include "util/fingerprint.h"

namespace core {

FinishedRun loadFinishedRun(const Workspace& workspace, std::int64_t runId, const std::string& job)
{
    FinishedRun run{workspace.catalog().run(runId), {}};
    const std::string id = std::to_string(runId);
    if (run.record.status != RunStatus::Finished)
        throw Error(job + ": run " + id + " is " + runStatusName(run.record.status) +
                    "; only finished runs can be used");
    run.config = parseRunConfig(run.record.configJson, "run " + id + " config");
    const std::string current = modelFingerprint(run.config.model);
    if (current != run.record.modelFingerprint)
        throw Error(job + ": the model at " + run.config.model + " changed since run " + id + " (fingerprint " +
                    current + ", run used " + run.record.modelFingerprint + ")");
    return run;
}

} // namespace core
