#pragma once
// Runs that differ only in calibration.seed, as one row of a paper's table (issue 20 §5): the
// mean ± sample standard deviation of every metric over the seeds, with n. Torch-free (the CLI's
// `compare --group-seeds` and the GUI's grouped runs table read it).

#include "store/catalog.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace core {

struct MetricSummary {
    double mean = 0.0;
    double standardDeviation = 0.0; ///< sample (n − 1); NaN for one value
    int n = 0;                      ///< runs that have the metric (NaN values left out)
};

struct SeedGroup {
    std::string hash;            ///< config/run_identity.h: seedGroupHash
    std::string name;            ///< the first run's name without its seed ("… calibration.seed=N", "… seedN")
    RunKind kind = RunKind::Ptq; ///< what the runs are (a TTA group's numbers are never PTQ numbers)
    std::vector<std::int64_t> runIds;
    std::vector<std::uint64_t> seeds;
    /// "perplexity <dataset>", "<metric> <task>" (reported task metrics), "avg acc" (over the
    /// tasks), "effective_bits", "seconds" (the jobs' wall time): in this order, each kind by name.
    std::vector<std::pair<std::string, MetricSummary>> metrics;
};

/// Groups the finished runs among `runIds` (empty: every finished run of the catalog) by
/// seedGroupHash, one run per seed (the newest), groups in the order of their first run.
/// Runs that are not finished are left out. Throws core::Error for an unknown id.
std::vector<SeedGroup> groupRunsBySeed(const Catalog& catalog, const std::vector<std::int64_t>& runIds = {});

/// The seed-group key of every run of `runs` (the catalog's, in id order): seedGroupHash of its
/// config, where a derived run (TTA, PTQ after preprocessing) has its parent's key in place of its
/// model, since each seed's preprocessed model is a directory of its own.
std::map<std::int64_t, std::string> seedGroupKeys(const std::vector<RunRecord>& runs);

/// Mean and sample standard deviation of the finite values.
MetricSummary summarize(const std::vector<double>& values);

} // namespace core
