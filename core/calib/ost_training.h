#pragma once
// Training OSTQuant's transforms on the whole model (METHODS.md §7.3–7.4; reference notes §3):
// each step draws a batch of calibration windows, runs the FP model (no transforms, no
// quantization) as the teacher and the transformed model — weights rebuilt from the frozen
// fused weights and the current parameters, fake-quantized as configured, with the run's
// activation/KV fake-quant — as the student, and minimizes a loss on their logits. Rotations
// move on the Stiefel manifold, scalings in Euclidean space (calib/riemannian_adam.h), with
// the gradient norm clipped to 1 and both learning rates decayed linearly to 0 (HF Trainer's
// defaults, which the authors' scripts keep).

#include "calib/model_context.h"
#include "calib/ost_transforms.h"
#include "loss/loss_curve.h"
#include "quant/clipped_grid.h"

#include <string>
#include <vector>

namespace core {

enum class OstLoss {
    KlTop,       ///< KL over the teacher's top-k logits, p from the full softmax (OSTQuant)
    Kl,          ///< KL over the whole vocabulary
    LogitMse,    ///< mean squared difference of the logits
    CrossEntropy ///< next-token cross-entropy of the student (SpinQuant's objective)
};

OstLoss ostLossFromName(const std::string& name); ///< "kl_top", "kl", "mse", "ce"
std::string ostLossName(OstLoss loss);

struct OstTrainingOptions {
    std::int64_t steps = 100;
    std::int64_t batch = 4; ///< windows per step
    double rotationLr = 0.01689753172873217;
    double scaleLr = 0.0017898822675917248;
    double maxGradNorm = 1.0;
    OstLoss loss = OstLoss::KlTop;
    std::int64_t topK = 64;
    bool weightFakeQuant = false; ///< fake-quantize the transformed weights (straight-through)
    int weightBits = 4;
    bool weightSymmetric = true;
    std::int64_t weightGroupSize = -1;
    ClipSearch clip;
    std::uint64_t seed = 0;           ///< the order of the windows
    double orthogonalityLimit = 1e-4; ///< ‖RᵀR − I‖_F above this fails the run
};

struct OstTrainingResult {
    BlockLossCurve curve; ///< terms: the loss and the orthogonality error, per step
    double maxOrthogonalityError = 0.0;
    double seconds = 0.0;
};

/// Trains `transforms` in place (its rotations and scalings become leaves with gradients during
/// the call). `fusedBlocks`/`fusedGlobals`: the norm-fused FP model; the teacher is `model`'s
/// working model. Reports every step through model.onStep (values: step, loss, orth_error).
/// Throws core::Error when a rotation leaves the manifold, core::Cancelled when cancelled.
OstTrainingResult trainOstTransforms(ModelContext& model, const std::vector<BlockWeights>& fusedBlocks,
                                     const GlobalWeights& fusedGlobals, OstTransforms& transforms,
                                     const OstTrainingOptions& options);

/// The student's logits [B, T, V] on `ids` [B, T]: the transformed model with the hooks and, when
/// asked, straight-through weight fake-quant (also what the tests and the benchmark run).
torch::Tensor transformedLogits(const ModelConfig& config, const std::vector<BlockWeights>& fusedBlocks,
                                const GlobalWeights& fusedGlobals, const OstTransforms& transforms,
                                const torch::Tensor& ids, const AttentionContext& attention, const ForwardHooks* hooks,
                                const OstTrainingOptions& options);

/// The training loss of `student` against `teacher` logits [B, T, V] (ids for the CE loss).
torch::Tensor ostLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& ids,
                      const OstTrainingOptions& options);

} // namespace core
