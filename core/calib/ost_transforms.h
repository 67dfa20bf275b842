#pragma once
// OSTQuant's equivalent transforms of a LLaMA model (Hu et al., ICLR 2025; METHODS.md §7.2),
// applied to a model whose RMSNorms are fused (model/norm_fusion.h):
//   R_res      [H, H]            the residual stream x → x·R: embedding E·R, every reader
//                                (q, k, v, gate, up, head) W·R, every writer (o, down) Rᵀ·W
//   R_ov       [kvHeads, d, d]   per KV head of each layer: v_proj's output for head h times R_h,
//                                o_proj's input columns of every query head of the group times R_h
//   online R4  [I, I]            fixed: down_proj's input x·H and W_down·H (model/online_rotation.h)
//   online R3  [d, d]            fixed: Q and K times a Hadamard after RoPE (for KV quantization)
//   scalings   (init 1)          S_norm_qkv, S_norm_upgate [H]: the norm's weight / s, its readers'
//                                columns · s (in the rotated basis); S_qk [kvHeads, d/2]: k rows · s,
//                                q rows / s; S_ov [kvHeads·d]: v rows / s, o columns · s;
//                                S_up_down [I]: up rows / s, down columns · s
// Each is an exact equivalence, so with no quantization the transformed model computes the FP
// model's logits for any parameter values. Two choices differ from the authors' code, which is
// not exact there (experiments/ostquant/reference-notes.md §2.6): S_qk is shared by the two
// channels RoPE rotates together (i and i + d/2), so it commutes with RoPE; S_up_down scales
// down_proj's columns before the online Hadamard (W_down·diag(s)·H, not (W_down·H)·diag(s)).
// Composition (per block): scalings in the original basis, then R_res, then R_ov, then the norm
// scalings in the rotated basis (the reference's order).

#include "io/model_config.h"
#include "model/decoder_forward.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace core {

/// Which transforms exist (fixed for a run).
struct OstTransformLayout {
    bool residualRotation = true; ///< R_res
    bool valueRotation = true;    ///< R_ov
    bool scalings = true;         ///< the five scaling vectors per layer
    bool onlineDownRotation = true;
    bool onlineQueryKeyRotation = false;
};

/// One layer's scaling vectors (float32, init 1).
struct OstLayerScales {
    torch::Tensor normQkv;    ///< [H]
    torch::Tensor normUpGate; ///< [H]
    torch::Tensor queryKey;   ///< [kvHeads, d/2]
    torch::Tensor valueOut;   ///< [kvHeads·d]
    torch::Tensor upDown;     ///< [I]
};

/// The parameters, as leaf tensors (the trainer turns on their gradients).
struct OstTransforms {
    OstTransformLayout layout;
    torch::Tensor residual;                 ///< [H, H], undefined without R_res
    std::vector<torch::Tensor> valueOutput; ///< per layer [kvHeads, d, d], empty without R_ov
    std::vector<OstLayerScales> scales;     ///< per layer, empty without scalings
    torch::Tensor downRotation;             ///< [I, I] fixed, undefined without online R4
    torch::Tensor queryKeyRotation;         ///< [d, d] fixed, undefined without online R3
    std::string residualInit;               ///< how R_res was made (hadamard.h kinds, "klt + ...")
    std::string valueInit;
    std::string downRotationKind;

    /// R_res and every R_ov[h] as [n, n] views (what the Stiefel optimizer updates).
    std::vector<torch::Tensor> rotations() const;
    std::vector<torch::Tensor> scaleVectors() const;
};

enum class OstRotationInit {
    RandomHadamard, ///< QuaRot's random Hadamard (the authors' W4A16 script)
    Klt,            ///< eigenvectors of the reader weights' covariance, times a random Hadamard (W4A4)
};

/// Transforms at their inits for the fused model (`fusedBlocks` are the norm-fused FP blocks,
/// used by the KLT init). Seeds: R_res from `seed`, R_ov per (layer, head) from it.
OstTransforms initialOstTransforms(const ModelConfig& config, const std::vector<BlockWeights>& fusedBlocks,
                                   const OstTransformLayout& layout, OstRotationInit init, std::uint64_t seed);

/// The fused block `index` under the transforms, computed in `dtype` (float32 while training,
/// differentiable in the parameters; float64 for the final fold) and returned as float32. The
/// block carries the online rotation tensors that its layout asks for.
BlockWeights transformedBlock(const ModelConfig& config, const BlockWeights& fused, std::int64_t index,
                              const OstTransforms& transforms, torch::ScalarType dtype);

/// Embedding and head under R_res (float32; E·R and W_head·R computed in `dtype`).
GlobalWeights transformedGlobals(const GlobalWeights& fused, const OstTransforms& transforms, torch::ScalarType dtype);

} // namespace core
