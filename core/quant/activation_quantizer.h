#pragma once
// Dynamic fake-quantization of activations and of the KV cache (issue 15 §4), as the
// W4A4KV4 settings of QuaRot, SpinQuant, OSTQuant and LRQuant run it: every Linear input of the
// blocks quantized per token (or per tensor) on its own range at run time, K (after RoPE) and V
// per head in groups along the head dimension. Round-to-nearest on a min/max range scaled by
// the clip ratio; the straight-through estimator lets gradients pass (learning methods).

#include <torch/torch.h>

#include "model/forward_hooks.h"
#include "quant/activation_spec.h"

namespace core {

/// x fake-quantized with one grid per slice along the last dimension `x.size(-1)` (per
/// token) or over all of x (per tensor). Asymmetric: [min(x, 0), max(x, 0)] · clip on
/// 2^bits − 1 steps with an integer zero point; symmetric: max|x| · clip on the signed grid
/// [−2^(bits−1), 2^(bits−1) − 1]. A slice of zeros stays zero. Gradient: identity (STE).
torch::Tensor fakeQuantizeActivations(const torch::Tensor& x, const ActivationQuantSpec& spec);

/// K or V [batch, heads, tokens, headDim] fake-quantized per (head, token) in groups of
/// spec.groupSize channels of the head dimension (0: the whole head).
torch::Tensor fakeQuantizeKeyValues(const torch::Tensor& kv, const KvQuantSpec& spec);

/// The hooks that quantize a forward as the run does: every Linear input of the blocks with
/// `activations`, K and V of every block with `kv` (the head's input is not a block Linear's,
/// so it stays in float). Empty hooks when both are off: a weight-only forward is unchanged.
ForwardHooks streamQuantizationHooks(const ActivationQuantSpec& activations, const KvQuantSpec& kv);

} // namespace core
