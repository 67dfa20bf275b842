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

/// While alive, SIGINT requests cancel on `token` instead of killing the process,
/// so a job can unwind and leave its files and catalog consistent.
class InterruptScope {
public:
    explicit InterruptScope(const core::CancelToken& token);
    ~InterruptScope();
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;
};

} // namespace app
