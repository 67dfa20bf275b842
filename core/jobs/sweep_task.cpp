#include "jobs/sweep_task.h"

#include "config/run_identity.h"
#include "store/run_lock.h"
#include "util/error.h"

#include <algorithm>
#include <filesystem>

namespace core {
namespace {

namespace fs = std::filesystem;

// The newest unfinished calibration with `hash` that no process is running, or 0.
std::int64_t resumableRun(const Workspace& workspace, const std::string& hash)
{
    std::int64_t newest = 0;
    for (const RunRecord& run : workspace.catalog().listRuns())
        if (run.kind != RunKind::TestTimeAdapted && run.status != RunStatus::Finished &&
            runContentHash(run.configJson) == hash && !runLockHeld(workspace.runDirectory(run.id)))
            newest = run.id;
    return newest;
}

// A run directory's files for the main workspace, staged in `partial` before the catalog's
// write transaction (copying gigabytes must not hold the catalog's lock): everything but the
// job lock and a checkpoint. Artifacts are hard-linked where the file system allows.
void stageRunFiles(const fs::path& from, const fs::path& partial)
{
    fs::remove_all(partial); // what an interrupted merge left
    fs::create_directories(partial);
    for (const auto& entry : fs::directory_iterator(from)) {
        const std::string name = entry.path().filename().string();
        if (name == "job.lock" || name == "resume")
            continue;
        if (entry.is_directory()) {
            fs::copy(entry.path(), partial / name, fs::copy_options::recursive);
            continue;
        }
        std::error_code linkError;
        fs::create_hard_link(entry.path(), partial / name, linkError);
        if (linkError)
            fs::copy_file(entry.path(), partial / name);
    }
}

// Inside the import's transaction: the staged files become the run's directory.
void placeRunFiles(const fs::path& partial, const fs::path& to)
{
    fs::remove_all(to); // a directory an interrupted merge left without its catalog row
    fs::rename(partial, to);
}

} // namespace

std::map<std::string, std::int64_t> finishedRunsByHash(const Catalog& catalog)
{
    std::map<std::string, std::int64_t> runs;
    for (const RunRecord& run : catalog.listRuns())
        if (run.status == RunStatus::Finished)
            runs[runContentHash(run.configJson)] = run.id;
    return runs;
}

SweepTaskResult runSweepTask(Workspace& workspace, const SweepRun& run, const ProgressCallback& onProgress,
                             const CancelToken& cancel, const std::function<void(std::int64_t)>& onRunStarted)
{
    const auto finished = finishedRunsByHash(workspace.catalog());
    if (const auto found = finished.find(run.contentHash); found != finished.end())
        return {SweepTaskOutcome::AlreadyFinished, found->second};
    if (const std::int64_t id = resumableRun(workspace, run.contentHash)) {
        if (onRunStarted)
            onRunStarted(id);
        return {SweepTaskOutcome::Resumed, resumeCalibrationJob(workspace, id, onProgress, cancel).runId};
    }
    const RunConfig config = parseRunConfig(run.configJson, "sweep run " + std::to_string(run.index));
    return {SweepTaskOutcome::Calibrated, runCalibrationJob(workspace, config, onProgress, cancel, onRunStarted).runId};
}

SweepMergeResult mergeSweepShards(Workspace& workspace)
{
    SweepMergeResult result;
    const fs::path shards = fs::path(workspace.directory()) / "shards";
    if (!fs::is_directory(shards))
        return result;
    std::map<std::string, std::int64_t> merged = finishedRunsByHash(workspace.catalog());
    std::vector<fs::path> directories;
    for (const auto& entry : fs::directory_iterator(shards))
        if (entry.is_directory())
            directories.push_back(entry.path());
    std::sort(directories.begin(), directories.end());
    for (const fs::path& directory : directories) {
        const fs::path catalogPath = directory / "catalog.sqlite";
        if (!fs::is_regular_file(catalogPath)) {
            ++result.unfinished; // the task has not started yet
            continue;
        }
        try {
            // Read-only: the shard's task may still be running (a requeued one); its own
            // process marks its runs, never the merge.
            const Catalog shard(catalogPath.string(), OpenMode::ReadOnly);
            bool anyFinished = false;
            for (const RunRecord& run : shard.listRuns()) {
                if (run.status != RunStatus::Finished)
                    continue;
                anyFinished = true;
                const std::string hash = runContentHash(run.configJson);
                if (merged.count(hash)) {
                    ++result.alreadyMerged;
                    continue;
                }
                const fs::path source = directory / "runs" / std::to_string(run.id);
                const fs::path staged = fs::path(workspace.directory()) / "runs" / (".import-" + hash);
                stageRunFiles(source, staged); // a failed import leaves it for the next merge to replace
                const std::int64_t id =
                    workspace.catalog().importRun(catalogPath.string(), run.id, [&](std::int64_t newId) {
                        placeRunFiles(staged, workspace.runDirectory(newId));
                    });
                merged[hash] = id;
                ++result.imported;
            }
            if (!anyFinished)
                ++result.unfinished;
        } catch (const std::exception& e) {
            result.problems.push_back(directory.string() + ": " + e.what());
        }
    }
    return result;
}

} // namespace core
