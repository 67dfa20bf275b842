// LRQuant (Zhao et al., ACL 2024; METHODS.md §9) as a block method on OmniQuant's machinery
// (calib/omniquant.h): LWC plus the learnable equivalent transformation with LRQuant's
// log-activation-equivalent scale initialization s_j = a_j / log2(2 + a_j), a_j = max |x_j| of the
// FP model's q_proj, o_proj and up_proj inputs (down_proj is not smoothed), learnable shifts, and
// the loss MSE + NLC 1:1. Meant for weight-activation settings (W4A4, W4A8, W6A6) with the run's
// activation quantization, which every training forward applies. Test-time adaptation is
// `quantscope adapt` on a finished run (jobs/adapt_job.h).
#include "calib/learning_rate_option.h"
#include "calib/omniquant.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"

namespace core {

MethodDescriptor lrQuantMethod()
{
    MethodDescriptor method;
    method.name = "lrquant";
    method.description = "Learnable smoothing (LET with the log-activation init and shifts) + LWC, trained block by "
                         "block on MSE + NLC; for weight-activation quantization";
    method.reference = "Zhao et al., ACL 2024; METHODS.md §9";
    method.capabilities.learnsBlockParameters = true;
    method.capabilities.takesLoss = true;
    method.capabilities.modelStage = true;
    method.defaultLoss = {LossTerm{LossType::Mse, 1.0}, LossTerm{LossType::Nlc, 1.0}}; // METHODS.md §9.2
    method.options = {
        epochsOption(20, 1, "Passes over the calibration windows per block (README, W4A4: 20)"),
        windowsPerStepOption("Calibration windows per optimizer step (authors: 1)"),
        learningRateOption("let_lr", 1e-3, "AdamW learning rate of the smoothing scales and shifts (weight decay 0)",
                           "Smoothing learning rate"),
        learningRateOption("lwc_lr", 1e-2, "AdamW learning rate of the clipping logits (weight decay 0)",
                           "LWC learning rate"),
        {.key = "shifts",
         .type = OptionType::Boolean,
         .defaultValue = true,
         .help = "Learnable shifts (init 0): the norms and Linears gain biases, so the run cannot be exported "
                 "as a LLaMA checkpoint",
         .label = "Shifts"},
        {.key = "aug_loss",
         .type = OptionType::Boolean,
         .defaultValue = false,
         .help = "Also match the FP block on the quantized stream's inputs (the authors' --aug_loss, off by "
                 "default)",
         .label = "aug loss"},
    };
    method.create = [](const RunConfig& config) {
        OmniQuantConfig options;
        options.epochs = config.options.integer("epochs");
        options.batchSize = config.options.integer("batch_size");
        options.lwcLearningRate = config.options.number("lwc_lr");
        options.augLoss = config.options.boolean("aug_loss");
        options.let = true;
        options.letLearningRate = config.options.number("let_lr");
        options.letInit = EquivalentTransformInit::Scale::LogActivation;
        options.letShifts = config.options.boolean("shifts");
        options.fpActivationStatistics = true;
        options.methodName = "lrquant";
        return std::make_unique<OmniQuantMethod>(options, config.loss, config.calibration.seed);
    };
    return method;
}

} // namespace core
