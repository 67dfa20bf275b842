#pragma once
// A sweep (issue 20 §1): a manifest of run configs, the shape of a paper's table (methods ×
// bit widths × loss variants × seeds). The manifest, sweep.json:
//
// {
//   "name": "sw-table",                           // names the sweep's directory and jobs
//   "base": {"method": "omniquant", "weights": {"bits": 2, "group_size": 64}},   // a run config
//   "axes": {                                     // every combination, in this key order
//     "loss": ["mse", "mse:0.9,sw:0.1"],          // any config key → its values ("loss": shorthand too)
//     "calibration.seed": [0, 1, 2]
//   },
//   "runs": [{"method": "tesseraq"}, ...]         // optional: explicit variants of the base
// }
//
// The plan is every explicit run (or the base alone) times every combination of the axes,
// each the base with the run's keys and the axis values written over it. Every run is parsed
// and resolved up front, so a bad value fails before anything runs, naming the run and the
// key. Each run has a content hash (config/run_identity.h): what finds it again in a
// workspace, a shard or a checkpoint.

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct SweepRun {
    std::int64_t index = 0; ///< position in the plan (a Slurm array task id)
    std::string name;       ///< display name: the base's name (or the automatic one) + the axis values
    std::string configJson; ///< canonical and resolved: what the catalog will store
    std::string contentHash;
    std::vector<std::string> settings; ///< "calibration.seed=1", one per axis and explicit key
};

struct SweepPlan {
    std::string name;
    std::string manifestPath; ///< absolute
    std::vector<SweepRun> runs;
};

/// Expands and validates the manifest at `path`. Throws core::Error naming the file, the run
/// (its index and settings) and the key for anything wrong, and naming both runs when two
/// expand to the same content. A saved plan (sweepPlanJson's array, what `submit` and `run`
/// write as the sweep's plan.json) is read as it is: its configs are resolved already, so the
/// tasks run exactly what was planned wherever they start and whatever the manifest became.
SweepPlan planSweep(const std::string& path);

/// The plan as a JSON array of runs: index, name, hash, settings, config.
std::string sweepPlanJson(const SweepPlan& plan);

/// Writes the plan as DIR/sweeps/<name>/plan.json (what the sweep's tasks read) and returns its path.
std::string writeSweepPlan(const SweepPlan& plan, const std::string& workspaceDirectory);

/// The sweep's own directory in a workspace: DIR/sweeps/<name>/ (manifest copy, scripts, logs).
std::string sweepDirectory(const std::string& workspaceDirectory, const std::string& sweepName);

/// A shard workspace of a sweep task that runs away from the main catalog (Slurm):
/// DIR/shards/<content hash>/.
std::string shardDirectory(const std::string& workspaceDirectory, const std::string& contentHash);

} // namespace core
