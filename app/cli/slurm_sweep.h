#pragma once
// A sweep on a Slurm cluster (issue 20 §3): one job array, one task per run of the plan, each
// writing its own shard workspace (never many writers on one SQLite file over a network file
// system), and a merge job that starts when every task has ended (afterany). Slurm schedules,
// places and requeues; the scripts only say what to run. Everything goes through the sbatch,
// squeue and scontrol commands on PATH (SLURM_CONF as the user has it).

#include "jobs/sweep_plan.h"

#include <string>
#include <vector>

namespace app {

struct SlurmSubmitOptions {
    std::string workspace; ///< on the shared file system: the main catalog, shards/, sweeps/
    std::string partition;
    int maxParallel = 0;            ///< array tasks running at once (%K); 0 = no limit
    std::string time;               ///< --time; with it the tasks get SIGTERM 120 s before the limit
    std::string memory;             ///< --mem
    int cpus = 0;                   ///< --cpus-per-task (the task's thread count)
    std::vector<std::string> extra; ///< more sbatch arguments, given to both jobs
};

struct SlurmSubmission {
    std::string arrayJob;
    std::string mergeJob;
    std::string arrayScript; ///< paths of the written batch scripts
    std::string mergeScript;
};

/// Writes the batch scripts into the sweep's directory and, unless `dryRun`, submits them.
/// Throws core::Error with sbatch's message when a submission fails.
SlurmSubmission submitSlurmSweep(const core::SweepPlan& plan, const SlurmSubmitOptions& options, bool dryRun);

/// The sweeps submitted from `workspace`, each with what squeue says of its jobs and the state
/// of each run's shard; a table (or JSON with `json`).
std::string slurmSweepStatus(const std::string& workspace, bool json);

/// Under Slurm (SLURM_JOB_ID set): puts this task back in the queue (scontrol requeue), for a
/// task stopped by SIGTERM after writing its checkpoint. Returns false when it is not a Slurm
/// job or scontrol failed (the message is printed).
bool requeueThisSlurmTask();

} // namespace app
