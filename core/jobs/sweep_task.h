#pragma once
// One run of a sweep's plan in a workspace (issue 20 §2–4): the same code runs it in a local
// pool's process, a Slurm array task and a requeued task. The run is found again by its
// content hash: finished → nothing to do; interrupted → resumed from its checkpoint; absent →
// calibrated.

#include "jobs/calibrate_job.h"
#include "jobs/sweep_plan.h"

#include <map>

namespace core {

enum class SweepTaskOutcome {
    AlreadyFinished, ///< a finished run with the same content hash is in the workspace
    Resumed,         ///< an unfinished one was resumed and finished
    Calibrated,      ///< a new run was calibrated
};

struct SweepTaskResult {
    SweepTaskOutcome outcome = SweepTaskOutcome::Calibrated;
    std::int64_t runId = 0;
};

/// Content hash → id of the newest finished run (a test-time adaptation's config has its own hash).
std::map<std::string, std::int64_t> finishedRunsByHash(const Catalog& catalog);

/// Runs `run` in `workspace` as above. Throws like runCalibrationJob / resumeCalibrationJob.
SweepTaskResult runSweepTask(Workspace& workspace, const SweepRun& run, const ProgressCallback& onProgress = {},
                             const CancelToken& cancel = {},
                             const std::function<void(std::int64_t runId)>& onRunStarted = {});

/// What merging a sweep's shards into the main workspace did.
struct SweepMergeResult {
    int imported = 0;                  ///< finished shard runs copied into the main catalog
    int alreadyMerged = 0;             ///< finished shard runs whose content the main catalog has already
    int unfinished = 0;                ///< shards whose run is not finished (still running, failed, never started)
    std::vector<std::string> problems; ///< shards that could not be read, one line each
};

/// Imports every finished run of the shard workspaces under `workspace`'s shards/ directory
/// (sweep_plan.h: shardDirectory) into its catalog, each in one transaction with its files
/// (artifacts hard-linked when the file system allows, else copied). Idempotent: a run whose
/// content the main catalog holds finished is skipped, so merging again duplicates nothing.
SweepMergeResult mergeSweepShards(Workspace& workspace);

} // namespace core
