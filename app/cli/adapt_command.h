#pragma once
// `quantscope adapt RUN_ID --text FILE`: LRQuant's test-time adaptation of a finished run
// (core/jobs/adapt_job.h), recorded as a new run of kind TTA whose parent is RUN_ID.

#include "cli/cli_common.h"

#include "config/run_config.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace app {

struct AdaptOptions {
    std::int64_t runId = 0;
    std::string name;
    core::AdaptationConfig adaptation;
    bool fpActivations = false; ///< --fp-activations: adaptation.quantizedActivations = false
};

/// Registers the subcommand's options on `command`.
void addAdaptOptions(CLI::App* command, AdaptOptions& options);
/// Runs it in `workspaceDir`; returns the exit code.
int commandAdapt(const std::string& workspaceDir, AdaptOptions options, const CommonOptions& common);

} // namespace app
