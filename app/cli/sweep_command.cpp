#include "cli/sweep_command.h"

#include "cli/model_commands.h"
#include "cli/progress_printer.h"
#include "cli/slurm_sweep.h"
#include "cli/sweep_pool.h"
#include "jobs/sweep_task.h"
#include "store/workspace.h"
#include "util/error.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace app {
namespace {

namespace fs = std::filesystem;

int commandPlan(const SweepOptions& options, const CommonOptions& common)
{
    const core::SweepPlan plan = core::planSweep(options.manifest);
    if (common.json) {
        std::cout << core::sweepPlanJson(plan) << "\n";
        return 0;
    }
    std::printf("sweep %s: %zu runs (%s)\n", plan.name.c_str(), plan.runs.size(), plan.manifestPath.c_str());
    std::printf("%5s  %-16s  %s\n", "index", "hash", "name");
    for (const core::SweepRun& run : plan.runs)
        std::printf("%5lld  %-16s  %s\n", static_cast<long long>(run.index), run.contentHash.c_str(), run.name.c_str());
    return 0;
}

constexpr int kRequeuesWithoutProgress = 3;

std::int64_t taskIndex(const SweepOptions& options, std::size_t runs)
{
    std::int64_t index = options.index;
    if (index < 0) {
        const char* slurm = std::getenv("SLURM_ARRAY_TASK_ID");
        if (slurm == nullptr)
            throw core::Error("sweep task: --index is required outside a Slurm job array");
        char* end = nullptr;
        index = std::strtoll(slurm, &end, 10);
        if (end == slurm || *end != '\0')
            throw core::Error(std::string("sweep task: SLURM_ARRAY_TASK_ID '") + slurm + "' is not a number");
    }
    if (index < 0 || static_cast<std::size_t>(index) >= runs)
        throw core::Error("sweep task: index " + std::to_string(index) + " is out of range (the plan has " +
                          std::to_string(runs) + " runs, 0.." + std::to_string(runs - 1) + ")");
    return index;
}

int commandTask(const SweepOptions& options, const CommonOptions& common)
{
    const core::SweepPlan plan = core::planSweep(options.manifest);
    const core::SweepRun& run = plan.runs[static_cast<std::size_t>(taskIndex(options, plan.runs.size()))];
    const std::string directory =
        options.shard ? core::shardDirectory(options.workspace, run.contentHash) : options.workspace;
    core::Workspace workspace(directory);
    core::CancelToken cancel;
    core::SweepTaskResult result;
    std::int64_t runId = 0, blocksAtStart = 0;
    try {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        const auto started = [&](std::int64_t id) {
            runId = id;
            blocksAtStart = core::checkpointedBlocks(workspace, id);
            std::fprintf(stderr, "sweep %s task %lld: %s, run %lld in %s\n", plan.name.c_str(),
                         static_cast<long long>(run.index), run.name.c_str(), static_cast<long long>(id),
                         directory.c_str());
        };
        result = core::runSweepTask(workspace, run, std::ref(progress), cancel, started);
    } catch (const core::Cancelled&) {
        // Slurm's wall-time warning or `scancel --signal=TERM`: the checkpoint is written; the
        // task goes back into the queue and its next start resumes. Not forever: a task that
        // checkpointed no block since it started (a stage longer than the wall time) is
        // requeued at most kRequeuesWithoutProgress times.
        if (terminationRequested()) {
            const std::int64_t blocks = runId > 0 ? core::checkpointedBlocks(workspace, runId) : 0;
            const char* restarts = std::getenv("SLURM_RESTART_COUNT");
            const bool progress = blocks > blocksAtStart;
            if (progress || (restarts == nullptr ? 0 : std::atoi(restarts)) < kRequeuesWithoutProgress)
                requeueThisSlurmTask();
            else
                std::fprintf(stderr, "quantscope: no block checkpointed since the last start; not requeueing again "
                                     "(give the task more --time)\n");
        }
        throw;
    }
    const char* what = result.outcome == core::SweepTaskOutcome::AlreadyFinished ? "already finished"
                       : result.outcome == core::SweepTaskOutcome::Resumed       ? "resumed and finished"
                                                                                 : "finished";
    if (common.json)
        std::cout << nlohmann::json{{"index", run.index},
                                    {"hash", run.contentHash},
                                    {"run_id", result.runId},
                                    {"outcome", what},
                                    {"workspace", directory}}
                         .dump()
                  << "\n";
    else
        std::printf("sweep %s task %lld: run %lld %s (%s)\n", plan.name.c_str(), static_cast<long long>(run.index),
                    static_cast<long long>(result.runId), what, run.name.c_str());
    return 0;
}

int commandRun(const SweepOptions& options, const CommonOptions& common)
{
    const core::SweepPlan plan = core::planSweep(options.manifest);
    core::CancelToken cancel;
    SweepPoolResult result;
    {
        const InterruptScope interrupt(cancel);
        result = runSweepPool(plan, {options.workspace, options.jobs, options.threads, common.quiet}, cancel);
    }
    if (common.json)
        std::cout << nlohmann::json{{"sweep", plan.name},        {"runs", plan.runs.size()},
                                    {"skipped", result.skipped}, {"finished", result.finished},
                                    {"failed", result.failed},   {"cancelled", result.cancelled}}
                         .dump()
                  << "\n";
    else
        std::printf("sweep %s: %zu runs: %d finished now, %d finished before, %d failed%s\n", plan.name.c_str(),
                    plan.runs.size(), result.finished, result.skipped, result.failed,
                    result.cancelled ? "; stopped (run it again to resume)" : "");
    if (result.cancelled)
        throw core::Cancelled();
    return result.failed > 0 ? 1 : 0;
}

int commandSubmit(const SweepOptions& options, const CommonOptions& common)
{
    const core::SweepPlan plan = core::planSweep(options.manifest);
    SlurmSubmitOptions slurm;
    slurm.workspace = fs::absolute(options.workspace).lexically_normal().string();
    slurm.partition = options.partition;
    slurm.maxParallel = options.maxParallel;
    slurm.time = options.time;
    slurm.memory = options.memory;
    slurm.cpus = options.cpus;
    slurm.extra = options.sbatchArguments;
    core::Workspace{slurm.workspace}; // creates the main catalog before any task runs
    const SlurmSubmission submission = submitSlurmSweep(plan, slurm, options.dryRun);
    if (common.json) {
        std::cout << nlohmann::json{{"sweep", plan.name},
                                    {"runs", plan.runs.size()},
                                    {"array_job", submission.arrayJob},
                                    {"merge_job", submission.mergeJob},
                                    {"array_script", submission.arrayScript},
                                    {"merge_script", submission.mergeScript}}
                         .dump()
                  << "\n";
    } else if (options.dryRun) {
        std::printf("sweep %s: wrote %s and %s (not submitted)\n", plan.name.c_str(), submission.arrayScript.c_str(),
                    submission.mergeScript.c_str());
    } else {
        std::printf("sweep %s: %zu runs as array job %s, merge job %s after it; `quantscope sweep status "
                    "--workspace %s`\n",
                    plan.name.c_str(), plan.runs.size(), submission.arrayJob.c_str(), submission.mergeJob.c_str(),
                    slurm.workspace.c_str());
    }
    return 0;
}

int commandMerge(const SweepOptions& options, const CommonOptions& common)
{
    core::Workspace workspace(options.workspace);
    const core::SweepMergeResult result = core::mergeSweepShards(workspace);
    if (common.json)
        std::cout << nlohmann::json{{"imported", result.imported},
                                    {"already_merged", result.alreadyMerged},
                                    {"unfinished", result.unfinished},
                                    {"problems", result.problems}}
                         .dump()
                  << "\n";
    else
        std::printf("merged %d runs into %s (%d merged before, %d shards unfinished)\n", result.imported,
                    workspace.directory().c_str(), result.alreadyMerged, result.unfinished);
    for (const std::string& problem : result.problems)
        std::fprintf(stderr, "quantscope: shard skipped: %s\n", problem.c_str());
    return result.problems.empty() ? 0 : 1;
}

} // namespace

SweepCommand::SweepCommand(CLI::App& cli, CommonOptions& common) : m_common(common)
{
    m_sweep = cli.add_subcommand("sweep", "Sweeps of run configs: plan, run locally, submit to Slurm, merge");
    m_sweep->require_subcommand(1);
    const auto workspaceOption = [&](CLI::App* command) {
        command->add_option(
            "--workspace", m_options.workspace,
            "Workspace directory (default: $QUANTSCOPE_WORKSPACE or ~/.local/share/quantscope/workspace)");
        addCommonOptions(command, m_common);
    };
    const auto manifestArgument = [&](CLI::App* command) {
        command->add_option("manifest", m_options.manifest, "Sweep manifest (README: 'Sweeps')")
            ->required()
            ->check(CLI::ExistingFile);
    };

    m_plan = m_sweep->add_subcommand("plan", "Expand and validate a sweep manifest; list its runs with their hashes");
    manifestArgument(m_plan);
    addCommonOptions(m_plan, m_common);

    m_run = m_sweep->add_subcommand("run", "Run a sweep on this machine, skipping finished runs, resuming interrupted");
    manifestArgument(m_run);
    m_run->add_option("--jobs", m_options.jobs, "Runs at a time (each gets its share of the cores)")
        ->check(CLI::Range(1, 256));
    m_run->add_option("--threads", m_options.threads, "Threads per run (default: cores / jobs)")
        ->check(CLI::Range(1, 4096));
    workspaceOption(m_run);

    m_task = m_sweep->add_subcommand("task", "Run one run of a sweep's plan (what `run` and Slurm array tasks do)");
    manifestArgument(m_task);
    m_task->add_option("--index", m_options.index, "The run's index in the plan (default: $SLURM_ARRAY_TASK_ID)");
    m_task->add_flag("--shard", m_options.shard, "Write to the shard workspace DIR/shards/<hash>/ instead of DIR");
    workspaceOption(m_task);

    m_submit = m_sweep->add_subcommand(
        "submit", "Submit a sweep to Slurm: a job array (one task per run) and a merge job after it");
    manifestArgument(m_submit);
    m_submit->add_option("--partition", m_options.partition, "Slurm partition");
    m_submit->add_option("--max-parallel", m_options.maxParallel, "Array tasks running at once (%K)")
        ->check(CLI::Range(1, 100000));
    m_submit->add_option("--time", m_options.time,
                         "Wall time per task (tasks get SIGTERM 120 s before it, "
                         "checkpoint and requeue)");
    m_submit->add_option("--mem", m_options.memory, "Memory per task, e.g. 16G");
    m_submit->add_option("--cpus", m_options.cpus, "CPUs per task (its thread count)")->check(CLI::Range(1, 4096));
    m_submit->add_flag("--dry-run", m_options.dryRun, "Write the batch scripts, submit nothing");
    m_submit->add_option("sbatch", m_options.sbatchArguments, "Extra sbatch arguments, after --");
    workspaceOption(m_submit);

    // `sweep merge DIR` and `sweep status DIR`: the workspace as an argument, or --workspace.
    m_merge = m_sweep->add_subcommand("merge", "Import the finished shards of Slurm sweeps into the main catalog");
    m_merge->add_option("dir", m_options.workspace, "The sweep's workspace (or --workspace)");
    workspaceOption(m_merge);

    m_status = m_sweep->add_subcommand("status", "Slurm sweeps of a workspace: queue state and shard of every run");
    m_status->add_option("dir", m_options.workspace, "The sweep's workspace (or --workspace)");
    workspaceOption(m_status);
}

std::optional<int> SweepCommand::dispatch()
{
    if (!*m_sweep)
        return std::nullopt;
    if (m_options.workspace.empty())
        m_options.workspace = core::defaultWorkspaceDirectory();
    if (*m_plan)
        return commandPlan(m_options, m_common);
    if (*m_run)
        return commandRun(m_options, m_common);
    if (*m_task)
        return commandTask(m_options, m_common);
    if (*m_submit)
        return commandSubmit(m_options, m_common);
    if (*m_merge)
        return commandMerge(m_options, m_common);
    std::cout << slurmSweepStatus(m_options.workspace, m_common.json);
    return 0;
}

} // namespace app
