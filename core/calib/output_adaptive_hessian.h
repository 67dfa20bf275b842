#pragma once
// OAC's output-adaptive Hessian (Edalati et al., AAAI 2025; METHODS.md §6.2): per Linear,
//   Ĥ = (1/N) Σₙ Gₙᵀ Gₙ,   Gₙ = ∂ℓₙ/∂W  [d_out, d_in]
// with ℓₙ the next-token cross-entropy of calibration window n (mean over its tokens). It is
// the empirical Fisher of the model's output loss with the rows of W aggregated, so that one
// [d_in, d_in] matrix stands where GPTQ's 2XXᵀ does. One backward pass per window (batch 1:
// the definition needs each window's own gradient, not the gradient of the batch mean).

#include "calib/model_context.h"
#include "model/forward_hooks.h"

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace core {

/// Ĥ of every Linear of blocks [firstBlock, lastBlock) of the working model, by full layer
/// name. `firstInputs` [N, T, H] are the hidden states entering `firstBlock` for the windows
/// `ids` [N, T] (the embedding for block 0); every block from `firstBlock` to the model's end
/// runs with `hooks` (may be null) and autograd, but only the Linears of the requested blocks
/// get gradients. Gradients are taken in float32 and GᵀG is summed in float64; the result is
/// float32. `onWindow(done, total)` after each window; checks the context's cancel token.
std::map<std::string, torch::Tensor>
outputAdaptiveHessians(const ModelContext& model, std::int64_t firstBlock, std::int64_t lastBlock,
                       const torch::Tensor& firstInputs, const torch::Tensor& ids, const ForwardHooks* hooks,
                       const std::function<void(std::int64_t, std::int64_t)>& onWindow = {});

/// Ĥ / mean diag Ĥ + β · H / mean diag H (METHODS.md §6.7's ablation): both parts scaled to
/// a unit mean diagonal so that β weighs them on the same footing.
torch::Tensor blendedHessian(const torch::Tensor& outputAdaptive, const torch::Tensor& layerWise, double beta);

} // namespace core
