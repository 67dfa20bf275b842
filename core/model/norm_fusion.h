#pragma once
// RMSNorm fusion (QuaRot `fuse_layer_norms`, OSTQuant's first step; METHODS.md §7.2 item 0):
// each RMSNorm's weight γ is folded into the columns of the Linears that read the norm's
// output (W ← W·diag(γ)) and set to 1. RMSNorm(x)·γ·Wᵀ = RMSNorm(x)·(W·diag(γ))ᵀ, so the model
// computes the same function; afterwards the norm is a pure x / rms(x), which commutes with an
// orthogonal rotation of x (‖xR‖ = ‖x‖): the residual stream can then be rotated.

#include "model/decoder_forward.h"

#include <vector>

namespace core {

/// The LLaMA block with input_layernorm folded into q, k, v and post_attention_layernorm into
/// gate and up (computed in float64, returned float32). Throws core::Error for other families.
BlockWeights fuseBlockNorms(const ModelConfig& config, const BlockWeights& block);

/// The globals with the final norm folded into the head. Throws core::Error when the head is
/// tied to the embedding (folding would untie it; not supported).
GlobalWeights fuseFinalNorm(const ModelConfig& config, const GlobalWeights& globals);

} // namespace core
