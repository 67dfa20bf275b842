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

/// Replaces every Linear of ctx.weights by the dequantized `storedOf(name)` and records its
/// metrics (error under `hessians`), stored form and Hessian.
void handOverTrainedLinears(BlockCalibrationContext& ctx, const std::map<std::string, torch::Tensor>& hessians,
                            const std::function<QuantizedLinear(const std::string&)>& storedOf, double seconds);

} // namespace core
