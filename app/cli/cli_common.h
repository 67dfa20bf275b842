#pragma once
// Pieces every CLI subcommand shares: output options and Ctrl-C → cancel.

#include "util/cancel_token.h"

namespace app {

struct CommonOptions {
    bool json = false;
    bool quiet = false;
};

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
