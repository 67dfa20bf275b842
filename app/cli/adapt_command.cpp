#include "cli/adapt_command.h"

#include "cli/progress_printer.h"
#include "jobs/adapt_job.h"

#include <cstdio>
#include <iostream>

namespace app {

void addAdaptOptions(CLI::App* command, AdaptOptions& options)
{
    core::AdaptationConfig& a = options.adaptation;
    command->add_option("id", options.runId, "Finished lrquant run (or omniquant run with LET) to adapt")->required();
    command->add_option("--text", a.text, "Evaluation text to adapt to and score on (inputs only, no labels)")
        ->required();
    command->add_option("--name", options.name, "Name of the new run (default: '<parent> TTA <text>')");
    command->add_option("--epochs", a.epochs, "Passes over the text's windows (TTA.py: 5)")->capture_default_str();
    command->add_option("--let-lr", a.letLearningRate, "AdamW learning rate of the smoothing scales and shifts")
        ->capture_default_str();
    command->add_option("--lwc-lr", a.lwcLearningRate, "AdamW learning rate of the clipping logits (TTA.py: 1e-2)")
        ->capture_default_str();
    command
        ->add_option("--inputs", a.inputs,
                     "Last block's inputs: propagated (both streams through the blocks before it) or embedding "
                     "(TTA.py's loop: the embedding outputs)")
        ->check(CLI::IsMember({"propagated", "embedding"}))
        ->capture_default_str();
    command->add_flag("--fp-activations", options.fpActivations,
                      "Train and score the adapted block with unquantized activations, as TTA.py leaves them "
                      "(reference parity)");
    command->add_option("--max-windows", a.maxWindows, "Adapt to and score the first K windows (0: all)")
        ->capture_default_str();
}

int commandAdapt(const std::string& workspaceDir, AdaptOptions options, const CommonOptions& common)
{
    options.adaptation.quantizedActivations = !options.fpActivations;
    core::Workspace workspace(workspaceDir);
    core::CancelToken cancel;
    core::AdaptJobResult result;
    {
        const InterruptScope interrupt(cancel);
        ProgressPrinter progress(common.quiet);
        result =
            core::runAdaptJob(workspace, {options.runId, options.adaptation, options.name}, std::ref(progress), cancel);
    }
    if (common.json) {
        std::cout << nlohmann::json{{"run_id", result.runId},
                                    {"parent_run_id", result.parentRunId},
                                    {"kind", "tta"},
                                    {"name", result.name},
                                    {"dataset", result.dataset},
                                    {"perplexity", jsonNumber(result.perplexity)},
                                    {"parent_perplexity", jsonNumber(result.parentPerplexity)},
                                    {"fp_perplexity", jsonNumber(result.fpPerplexity)},
                                    {"windows", result.windows},
                                    {"seq_len", result.seqLen},
                                    {"seconds", jsonNumber(result.seconds)}}
                         .dump(2)
                  << "\n";
        return 0;
    }
    std::printf("run %lld: %s (TTA of run %lld)\n", static_cast<long long>(result.runId), result.name.c_str(),
                static_cast<long long>(result.parentRunId));
    std::printf("%s, %lld windows of %lld tokens: perplexity %.3f after TTA, %.3f before (run %lld), FP %.3f\n",
                result.dataset.c_str(), static_cast<long long>(result.windows), static_cast<long long>(result.seqLen),
                result.perplexity, result.parentPerplexity, static_cast<long long>(result.parentRunId),
                result.fpPerplexity);
    std::printf("TTA numbers come from the text they were adapted to: compare them with TTA numbers only\n");
    return 0;
}

} // namespace app
