// bench_ostquant: seconds per OSTQuant training step on the bundled model (issue 17): the
// whole-model forward through the transforms (weights rebuilt from R_res, R_ov and the scalings,
// the online Hadamard, W4 straight-through weight fake-quant as W4A16 trains), the KL-Top loss
// and the backward to the transforms, against a plain forward and backward of the same model
// (the gradient of the same loss with respect to every Linear weight) measured in the same run.
// Target: ≤ 1.5×. Prints one JSON object.
//   bench_ostquant [WINDOWS=4] [SEQ_LEN=512] [REPEATS=3]

#include "bench_timing.h"
#include "calib/ost_training.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"
#include "loss/reconstruction_loss.h"
#include "model/decoder_model.h"
#include "model/norm_fusion.h"
#include "model/weight_layout.h"

#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    const std::int64_t windows = argc > 1 ? std::stoll(argv[1]) : 4;
    const std::int64_t seqLen = argc > 2 ? std::stoll(argv[2]) : 512;
    const int repeats = argc > 3 ? std::stoi(argv[3]) : 3;
    const std::string modelDir = core::defaultModelDirectory();
    const core::DecoderModel model(modelDir);
    const core::ModelConfig& config = model.config();
    torch::manual_seed(0);
    const torch::Tensor ids = torch::randint(config.vocabSize, {windows, seqLen}, torch::kInt64);
    const core::AttentionContext attention(config, seqLen, torch::kCPU);
    const std::int64_t topK = 64;
    torch::Tensor teacher;
    {
        torch::NoGradGuard noGrad;
        teacher = model.forward(ids);
    }

    // Baseline: the FP model's forward and backward, gradients to every Linear weight.
    std::vector<core::BlockWeights> blocks;
    std::vector<torch::Tensor> weights;
    for (std::int64_t i = 0; i < config.numLayers; ++i) {
        core::BlockWeights block = model.block(i);
        for (const std::string& name : core::linearShortNames(config.family)) {
            torch::Tensor& w = block.tensors.at(name + ".weight");
            w = w.detach().clone().requires_grad_(true);
            weights.push_back(w);
        }
        blocks.push_back(std::move(block));
    }
    const double plain = bench::bestSeconds(
        [&] {
            torch::Tensor hidden = model.embed(ids);
            for (std::int64_t i = 0; i < config.numLayers; ++i)
                hidden = core::decoderBlock(config, blocks[static_cast<std::size_t>(i)], hidden, attention,
                                            core::blockPrefix(config, i));
            core::klTopLoss(model.logits(hidden), teacher, topK).backward();
            for (torch::Tensor& w : weights)
                w.mutable_grad() = torch::Tensor();
        },
        repeats, 1);

    // OSTQuant's step: transforms rebuilt and differentiated every step.
    std::vector<core::BlockWeights> fused;
    for (std::int64_t i = 0; i < config.numLayers; ++i)
        fused.push_back(core::fuseBlockNorms(config, model.block(i)));
    const core::GlobalWeights fusedGlobals = core::fuseFinalNorm(config, model.globals());
    core::OstTransforms transforms =
        core::initialOstTransforms(config, fused, {}, core::OstRotationInit::RandomHadamard, 0);
    std::vector<torch::Tensor> parameters = transforms.rotations();
    for (const torch::Tensor& s : transforms.scaleVectors())
        parameters.push_back(s);
    for (torch::Tensor& p : parameters)
        p.requires_grad_(true);
    core::OstTrainingOptions options;
    options.topK = topK;
    options.weightFakeQuant = true;
    const auto ostquantStep = [&](const core::OstTrainingOptions& stepOptions) {
        return bench::bestSeconds(
            [&] {
                const torch::Tensor student = core::transformedLogits(config, fused, fusedGlobals, transforms, ids,
                                                                      attention, nullptr, stepOptions);
                core::ostLoss(student, teacher, ids, stepOptions).backward();
                for (torch::Tensor& p : parameters)
                    p.mutable_grad() = torch::Tensor();
            },
            repeats, 1);
    };
    const double ostquant = ostquantStep(options);
    // The same step without the weight fake-quant (its clip search included): what the
    // transforms alone cost, as a W4A4 run with weight quant off during training pays.
    core::OstTrainingOptions transformsOnly = options;
    transformsOnly.weightFakeQuant = false;
    const double withoutWeightQuant = ostquantStep(transformsOnly);

    const double ratio = ostquant / plain;
    nlohmann::json report{{"benchmark", "bench_ostquant"},
                          {"model", modelDir},
                          {"windows", windows},
                          {"seq_len", seqLen},
                          {"plain_forward_backward_seconds", plain},
                          {"ostquant_step_seconds", ostquant},
                          {"ostquant_step_seconds_without_weight_quant", withoutWeightQuant},
                          {"ratio", ratio},
                          {"target_ratio", 1.5},
                          {"within_target", ratio <= 1.5}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
