#pragma once
// `quantscope sweep`: plan, run (local pool), task (one run; what pool processes and Slurm
// array tasks execute), submit (Slurm job array + merge job), merge, status (issue 20).

#include "cli/cli_common.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app {

struct SweepOptions {
    std::string manifest;
    std::string workspace;
    int jobs = 1;
    int threads = 0;
    std::int64_t index = -1; ///< sweep task --index (default: $SLURM_ARRAY_TASK_ID)
    bool shard = false;      ///< sweep task --shard: DIR/shards/<hash>/ instead of DIR
    // sweep submit
    std::string partition;
    int maxParallel = 0;
    std::string time;
    std::string memory;
    int cpus = 0;
    bool dryRun = false;
    std::vector<std::string> sbatchArguments; ///< after "--"
};

/// Registers `sweep` and its subcommands on `cli`.
class SweepCommand {
public:
    SweepCommand(CLI::App& cli, CommonOptions& common);
    /// Runs the chosen subcommand; std::nullopt when `sweep` was not chosen.
    std::optional<int> dispatch();

private:
    CommonOptions& m_common;
    SweepOptions m_options;
    CLI::App* m_sweep = nullptr;
    CLI::App* m_plan = nullptr;
    CLI::App* m_run = nullptr;
    CLI::App* m_task = nullptr;
    CLI::App* m_submit = nullptr;
    CLI::App* m_merge = nullptr;
    CLI::App* m_status = nullptr;
};

} // namespace app
