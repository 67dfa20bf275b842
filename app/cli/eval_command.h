#pragma once
// `quantscope eval`: perplexity of a model on text files, or with --task the zero-shot
// accuracy of a model or a finished run on one task, scored as lm-evaluation-harness scores it.

#include "cli/cli_common.h"

#include "jobs/eval_job.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace app {

struct EvalOptions {
    std::string model;
    core::EvalJobParams perplexity;
    std::string task; ///< --task: zero-shot mode
    std::string data; ///< --data: the task's file ("" = the bundled task of that name)
    std::string labels;
    std::int64_t runId = 0; ///< --run: a finished run of --workspace instead of --model
    std::string workspace;
    std::int64_t limit = 0;
    std::string bos = "tokenizer";
    bool onePerChoice = false; ///< --one-forward-per-choice: no context sharing (cross-checks)
    bool listTasks = false;
};

/// Registers `eval` on `cli`; its values land in `options`.
CLI::App* addEvalCommand(CLI::App& cli, EvalOptions& options, CommonOptions& common);
/// Runs it; returns the exit code.
int commandEval(EvalOptions options, const CommonOptions& common);

} // namespace app
