#pragma once
// Pieces every CLI subcommand shares: output options and Ctrl-C → cancel.

#include "util/cancel_token.h"

#include <nlohmann/json.hpp>

namespace app {

struct CommonOptions {
    bool json = false;
    bool quiet = false;
};

/// A JSON number, or null for NaN / infinity (metrics stored as NULL), which JSON cannot hold.
nlohmann::json jsonNumber(double value);

/// While alive, SIGINT and SIGTERM request cancel on `token` instead of killing the process,
/// so a job can unwind and leave its files and catalog consistent (a calibration keeps its
/// checkpoint: Slurm's wall-time signal, `scancel --signal=TERM`, then `quantscope resume`).
class InterruptScope {
public:
    explicit InterruptScope(const core::CancelToken& token);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;
};

/// Whether a SIGTERM arrived while an InterruptScope was alive (the exit code is then 143, what
/// a process killed by SIGTERM reports, so Slurm and shells see it as terminated).
bool terminationRequested();

} // namespace app
