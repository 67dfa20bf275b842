#pragma once
// `quantscope preprocess RUN_ID`: PTQ1.61's quantization preprocessing (core/jobs/preprocess_job.h):
// LoRA on the run's quantized model, merged, then the run's config calibrated again on it.

#include "cli/cli_common.h"

#include "jobs/preprocess_job.h"

#include <CLI/CLI.hpp>

#include <string>

namespace app {

/// Registers the subcommand's options on `command`.
void addPreprocessOptions(CLI::App* command, core::PreprocessJobParams& params);
/// Runs it in `workspaceDir`; returns the exit code.
int commandPreprocess(const std::string& workspaceDir, const core::PreprocessJobParams& params,
                      const CommonOptions& common);

} // namespace app
