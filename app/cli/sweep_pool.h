#pragma once
// `quantscope sweep run`: a sweep's runs on this machine, N processes at a time (issue 20 §2).
// Each process is `quantscope sweep task MANIFEST --index I` on the workspace, with its share of
// the cores (QUANTSCOPE_THREADS, OMP/OpenBLAS threads), its output in the sweep's log
// directory. Runs finished already (same content hash) are skipped; interrupted ones resume.

#include "jobs/sweep_plan.h"
#include "util/cancel_token.h"

#include <string>

namespace app {

struct SweepPoolOptions {
    std::string workspace;
    int jobs = 1;    ///< processes at a time
    int threads = 0; ///< per process; 0 = the machine's cores / jobs
    bool quiet = false;
};

struct SweepPoolResult {
    int skipped = 0;  ///< finished before this sweep run
    int finished = 0; ///< finished by it
    int failed = 0;   ///< exited non-zero (their logs name why)
    bool cancelled = false;
};

/// Runs the plan's missing runs. Cancelling (Ctrl-C) sends SIGINT to every child, which
/// checkpoints its run and exits; the pool waits for them all.
SweepPoolResult runSweepPool(const core::SweepPlan& plan, const SweepPoolOptions& options,
                             const core::CancelToken& cancel);

/// The path of the running quantscope executable (children and batch scripts run it).
std::string quantscopeExecutable();

} // namespace app
