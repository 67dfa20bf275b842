#pragma once
// The CLI subcommands that create or read runs of a workspace: calibrate, runs,
// compare, export. Each returns the process exit code and throws core::Error /
// core::Cancelled for runCli to report.

#include "cli/adapt_command.h"
#include "cli/cli_common.h"
#include "cli/preprocess_command.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace app {

/// Values of the calibrate shorthand flags; each set one overrides the config file.
struct CalibrateOptions {
    std::string configPath;
    std::optional<std::string> preset; ///< core/config/run_presets.h, applied under everything else
    std::optional<std::string> name, model, method, calibrationText;
    std::optional<std::string> hessian; ///< the method's Hessian source: xtx | oac | blend
    std::optional<int> bits, activationBits, kvBits;
    std::optional<std::int64_t> groupSize, samples, seqLen, evalSeqLen, evalMaxWindows, batchSize, epochs, iterations;
    std::optional<std::uint64_t> seed;
    std::optional<std::string> loss; ///< "mse:0.9,sw:0.1"
    bool symmetric = false;
    bool actOrder = false;
    bool augLoss = false;
    bool let = false;
    std::vector<std::string> evalTexts;
    std::vector<std::string> tasks;     ///< --task NAME | NAME=FILE | bundled
    std::vector<std::string> overrides; ///< --set KEY=VALUE, applied last, in order
};

struct RunCommandOptions {
    std::string workspace; ///< "" = core::defaultWorkspaceDirectory()
    CalibrateOptions calibrate;
    std::vector<std::int64_t> runIds;
    std::string outDir;
    std::string metric = "rel_error";
    bool groupSeeds = false; ///< compare --group-seeds
    std::string layer;
    std::string csvDir;
    AdaptOptions adapt;
    core::PreprocessJobParams preprocess;
};

/// Registers calibrate, runs {list, show, delete}, compare and export on `cli`,
/// storing their values in `options`. Returns a dispatcher to call after parsing:
/// it runs the chosen subcommand, or returns std::nullopt when none of these was chosen.
class RunCommands {
public:
    RunCommands(CLI::App& cli, CommonOptions& common);
    std::optional<int> dispatch();

private:
    CommonOptions& m_common;
    RunCommandOptions m_options;
    CLI::App* m_calibrate = nullptr;
    CLI::App* m_resume = nullptr;
    CLI::App* m_runs = nullptr;
    CLI::App* m_runsList = nullptr;
    CLI::App* m_runsShow = nullptr;
    CLI::App* m_runsDelete = nullptr;
    CLI::App* m_compare = nullptr;
    CLI::App* m_export = nullptr;
    CLI::App* m_diag = nullptr;
    CLI::App* m_dump = nullptr;
    CLI::App* m_adapt = nullptr;
    CLI::App* m_preprocess = nullptr;
};

} // namespace app
