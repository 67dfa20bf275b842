#pragma once
// `quantscope diag RUN [--layer NAME] [--json] [--csv DIR]`: the recorded diagnostics
// of a run, one layer at a time (read lazily from runs/<id>/artifacts.h5).

#include "store/workspace.h"

#include <string>

namespace app {

struct DiagOptions {
    std::int64_t runId = 0;
    std::string layer;  ///< "" = list the layers with their scalar diagnostics
    std::string csvDir; ///< "" = no CSV export
    bool json = false;
};

int runDiag(const core::Workspace& workspace, const DiagOptions& options);

} // namespace app
