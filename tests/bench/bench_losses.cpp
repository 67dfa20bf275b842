// bench_losses (issue 7): the cost of the SW term in block reconstruction. One OmniQuant
// (LWC) training step on the bundled model's block 0 with 32 × 256 calibration tokens —
// forward of the fake-quantized block, loss, backward, AdamW step — with MSE alone and with
// MSE + SW (64 and 128 projections), in the same run. Target: MSE + SW ≤ 1.25× the MSE step.
// Prints one JSON object.

#include "calib/calibration_data.h"
#include "calib/omniquant.h"
#include "io/tokenizer.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"
#include "model/decoder_model.h"
#include "model/weight_layout.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

namespace {

// Median seconds of one training step over `repeats` steps after one warm-up step.
double stepSeconds(const core::ModelConfig& config, const core::BlockWeights& block, const torch::Tensor& inputs,
                   const torch::Tensor& targets, const core::AttentionContext& attention,
                   const std::vector<core::LossTerm>& terms, int repeats)
{
    const core::WeightQuantSpec spec{2, 64, false, core::QuantDialect::OmniQuant};
    core::LwcBlockTrainer trainer(config, block, core::blockPrefix(config, 0), spec, 1e-2);
    const core::CompositeLoss loss(terms, 0);
    std::vector<double> seconds;
    for (int i = 0; i <= repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        trainer.step(loss, inputs, targets, torch::Tensor(), attention, nullptr, 0, i);
        if (i > 0)
            seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    return seconds[seconds.size() / 2];
}

} // namespace

int main(int, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    torch::NoGradGuard noGrad;
    const std::string modelDir = core::defaultModelDirectory();
    const core::DecoderModel model(modelDir);
    const auto tokenizer = core::loadTokenizer(modelDir);
    const auto tokens = core::encodeWithBos(
        *tokenizer, core::readTextFile(core::resourceDirectory() + "/data/brown_calibration.txt"), 1);
    const auto windows = core::drawCalibrationWindows(tokens, 32, 256, 0);
    const core::ModelConfig& config = model.config();
    const core::AttentionContext attention(config, 256, model.device());
    const torch::Tensor inputs = model.embed(windows.ids);
    const core::BlockWeights block = model.block(0);
    const torch::Tensor targets = core::decoderBlock(config, block, inputs, attention, core::blockPrefix(config, 0));

    constexpr int kRepeats = 7;
    using core::LossTerm;
    using core::LossType;
    const double mse = stepSeconds(config, block, inputs, targets, attention, {LossTerm{LossType::Mse, 1.0}}, kRepeats);
    const double sw64 =
        stepSeconds(config, block, inputs, targets, attention,
                    {LossTerm{LossType::Mse, 0.9}, LossTerm{LossType::SlicedWasserstein, 0.1, 64, 1}}, kRepeats);
    const double sw128 =
        stepSeconds(config, block, inputs, targets, attention,
                    {LossTerm{LossType::Mse, 0.9}, LossTerm{LossType::SlicedWasserstein, 0.1, 128, 1}}, kRepeats);
    const nlohmann::json report{
        {"benchmark", "losses"},           {"threads", torch::get_num_threads()}, {"tokens", 32 * 256},
        {"step_seconds_mse", mse},         {"step_seconds_mse_sw64", sw64},       {"step_seconds_mse_sw128", sw128},
        {"ratio_sw64_to_mse", sw64 / mse}, {"ratio_sw128_to_mse", sw128 / mse},   {"target_ratio", 1.25}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
