#include "cli/preprocess_command.h"

#include "cli/progress_printer.h"

#include <cstdio>
#include <iostream>

namespace app {

void addPreprocessOptions(CLI::App* command, core::PreprocessJobParams& params)
{
    core::LoraConfig& l = params.lora;
    command->add_option("id", params.parentRunId, "Finished run whose quantized model is preprocessed")->required();
    command->add_option("--text", params.text, "LoRA training text (default: the run's calibration text)");
    command->add_option("--seq-len", params.seqLen, "Tokens per training window (default: the run's calibration)");
    command->add_option("--name", params.name, "Name of the second run (default: '<run> preprocessed')");
    command->add_option("--rank", l.rank, "LoRA rank r")->capture_default_str();
    command->add_option("--alpha", l.alpha, "LoRA alpha (the adapter is scaled by alpha / r)")->capture_default_str();
    command->add_option("--dropout", l.dropout, "Dropout on the adapters' input")->capture_default_str();
    command->add_option("--targets", l.targets, "Adapted Linears of every block (short names)")
        ->delimiter(',')
        ->capture_default_str();
    command->add_option("--steps", l.steps, "Optimizer steps (authors: 10000)")->capture_default_str();
    command->add_option("--grad-accum", l.gradientAccumulation, "Windows per optimizer step")->capture_default_str();
    command->add_option("--lr", l.learningRate, "AdamW peak learning rate (cosine schedule)")->capture_default_str();
    command->add_option("--warmup", l.warmupFraction, "Linear warm-up share of the steps")->capture_default_str();
    command->add_option("--lora-seed", l.seed, "Seed of the adapters' init, the window order and dropout")
        ->capture_default_str();
}

int commandPreprocess(const std::string& workspaceDir, const core::PreprocessJobParams& params,
                      const CommonOptions& common)
{
    core::Workspace workspace(workspaceDir);
    core::CancelToken cancel;
    core::PreprocessJobResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        result = core::runPreprocessJob(workspace, params, std::ref(progress), cancel);
    }
    const core::CalibrationJobResult& run = result.second;
    if (common.json) {
        nlohmann::json perplexity = nlohmann::json::object();
        for (const auto& d : run.datasets)
            perplexity[d.dataset] = jsonNumber(d.perplexity);
        std::cout << nlohmann::json{{"run_id", run.runId},
                                    {"parent_run_id", params.parentRunId},
                                    {"kind", "preprocessed"},
                                    {"name", run.name},
                                    {"merged_model", result.mergedModel},
                                    {"reused_merged_model", result.reusedMergedModel},
                                    {"lora_first_loss",
                                     result.losses.empty() ? nlohmann::json() : jsonNumber(result.losses.front())},
                                    {"lora_last_loss",
                                     result.losses.empty() ? nlohmann::json() : jsonNumber(result.losses.back())},
                                    {"perplexity", perplexity},
                                    {"effective_bits", jsonNumber(run.effectiveBits)},
                                    {"seconds", jsonNumber(run.seconds)}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    if (result.reusedMergedModel)
        std::printf("merged model %s reused (same run, LoRA settings and text)\n", result.mergedModel.c_str());
    else
        std::printf("LoRA: %zu steps, loss %.4f → %.4f; merged model %s\n", result.losses.size(), result.losses.front(),
                    result.losses.back(), result.mergedModel.c_str());
    std::printf("run %lld: %s (preprocessed from run %lld)\n", static_cast<long long>(run.runId), run.name.c_str(),
                static_cast<long long>(params.parentRunId));
    for (const auto& d : run.datasets)
        std::printf("  %-18s %10.3f\n", d.dataset.c_str(), d.perplexity);
    return 0;
}

} // namespace app
