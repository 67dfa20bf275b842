#pragma once
// Pieces shared by the methods that train a block on a reconstruction loss (OmniQuant,
// TesseraQ): the loss with its output head, the aug-loss target, progress messages and
// the hand-over of the trained Linears to the pipeline.

#include "calib/calibration_method.h"
#include "loss/reconstruction_loss.h"

#include <functional>

namespace core {

/// The composite loss of a block; kl_top terms compare the two block outputs through the
/// model's final norm and head ("logit lens", exact at the last block), since a block-wise
/// method has no model logits.
CompositeLoss makeBlockLoss(const std::vector<LossTerm>& terms, std::uint64_t seed, const BlockCalibrationContext& ctx);

/// The FP block applied to the quantized stream's inputs: OmniQuant's second target
/// (aug_loss), computed once per block without gradients.
torch::Tensor fpBlockOnQuantizedInputs(const BlockCalibrationContext& ctx);

/// Per input channel max |x| of every Linear's input over ctx.inputs (FP weights of ctx),
/// by short Linear name: LET's scale initialization.
std::map<std::string, torch::Tensor> inputAbsMax(const BlockCalibrationContext& ctx);

/// Reports a training step through ctx.onStep every 16 steps and at `force`, with the step
/// number and each term's value (`terms` names them; `values` has one more entry: the total).
void reportTrainingStep(const BlockCalibrationContext& ctx, const std::string& stage, double loss, std::int64_t step,
                        std::int64_t totalSteps, bool force, const std::vector<std::string>& terms,
                        const std::vector<double>& values);

/// One optimizer step of a block whose trainable weights `block` builds (with gradients): its
/// forward on `inputs` with `streamHooks`, `loss` against `targets` (plus against `augTargets`
/// when defined), backward and `optimizer`'s step. Returns the losses before the update, the
/// total last. Throws core::Error naming `method`, the block and the step when the loss is not
/// finite.
LossEvaluation blockTrainingStep(torch::optim::Optimizer& optimizer, const std::function<BlockWeights()>& block,
                                 const ModelConfig& config, const std::string& layerPrefix, const CompositeLoss& loss,
                                 const torch::Tensor& inputs, const torch::Tensor& targets,
                                 const torch::Tensor& augTargets, const AttentionContext& attention,
                                 const ForwardHooks* streamHooks, std::int64_t blockIndex, std::int64_t stepIndex,
                                 const std::string& method);

/// `epochs` passes over the calibration samples (ctx.inputs → ctx.targets, plus `augTargets`
/// when defined) in batches of `batchSize`, in order: `step(inputs, targets, augTargets, step)`
/// trains on one batch and returns its losses (the total last). Progress under `stage`
/// ("lwc epoch 3/20"); checks cancel every step. Returns the loss of every step.
BlockLossCurve trainOverSamples(const std::function<LossEvaluation(const torch::Tensor&, const torch::Tensor&,
                                                                   const torch::Tensor&, std::int64_t)>& step,
                                const std::vector<std::string>& termNames, const BlockCalibrationContext& ctx,
                                const torch::Tensor& augTargets, std::int64_t epochs, std::int64_t batchSize,
                                const std::string& stage);

/// Replaces every Linear of ctx.weights by the dequantized `storedOf(name)` and records its
/// metrics (error under `hessians`), stored form and Hessian.
void handOverTrainedLinears(BlockCalibrationContext& ctx, const std::map<std::string, torch::Tensor>& hessians,
                            const std::function<QuantizedLinear(const std::string&)>& storedOf, double seconds);

} // namespace core
