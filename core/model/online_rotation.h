#pragma once
// Fixed rotations that a block applies at run time ("online"), stored as extra block tensors so
// that every forward of the block (calibration streams, evaluation, dump, export) applies them
// without being told: the rotation methods (QuaRot, SpinQuant, OSTQuant; METHODS.md §7.2 item 3)
// rotate the input of down_proj by an orthogonal H (down_proj's weight holds W·H, so the
// product is unchanged while the activations and the weight are quantized in the rotated
// basis) and Q and K after RoPE by a Hadamard of the head size (q·k is unchanged; K is then
// quantized in the rotated basis). A block without these tensors computes what it did before.

#include "model/decoder_forward.h"

#include <torch/torch.h>

namespace core {

/// [intermediate, intermediate]: down_proj multiplies x·H (x = silu(gate)·up).
inline constexpr const char* kDownProjInputRotation = "mlp.down_proj.input_rotation";
/// [headDim, headDim]: Q and K become Q·H and K·H after RoPE, before the KV hooks see K and V.
inline constexpr const char* kQueryKeyRotation = "self_attn.qk_rotation";

/// W·Hᵀ in float64, returned float32: the weight that multiplies x directly when the Linear's
/// input would have been rotated by H (H orthogonal). Export and OSTQuant's weight-only models
/// fold with this one function, so both hold the same float32 weights.
torch::Tensor foldInputRotation(const torch::Tensor& weight, const torch::Tensor& rotation);

/// The block with its down_proj input rotation folded into the weight and the Q/K rotation
/// dropped: the same function when neither activations nor K are quantized. Unchanged without.
BlockWeights withoutOnlineRotations(BlockWeights block);

} // namespace core
