#pragma once
// Dynamic fake-quantization of activations and of the KV cache (issue 15 §4), as the
// W4A4KV4 settings of QuaRot, SpinQuant, OSTQuant and LRQuant run it: every Linear input of the
// blocks quantized per token (or per tensor) on its own range at run time, K (after RoPE) and V
// per head in groups along the head dimension. Round-to-nearest on a min/max range scaled by
// the clip ratio; the straight-through estimator lets gradients pass (learning methods).

#include <torch/torch.h>

#include <string>

namespace core {

enum class ActivationGranularity {
    PerToken,  ///< one range per token (row of the Linear's input)
    PerTensor, ///< one range per input tensor (a batch's forward)
};

struct ActivationQuantSpec {
    int bits = 16; ///< 16 = off; 2..8 quantize
    ActivationGranularity granularity = ActivationGranularity::PerToken;
    bool symmetric = false;
    double clipRatio = 1.0; ///< the range is scaled by this before the grid is fitted (0, 1]
    bool enabled() const { return bits < 16; }
};

struct KvQuantSpec {
    int bits = 16;              ///< 16 = off; 2..8 quantize
    std::int64_t groupSize = 0; ///< channels of the head dimension per group; 0 = the whole head
    bool symmetric = false;
    double clipRatio = 1.0;
    bool enabled() const { return bits < 16; }
};

/// x fake-quantized with one grid per slice along the last dimension `x.size(-1)` (per
/// token) or over all of x (per tensor). Asymmetric: [min(x, 0), max(x, 0)] · clip on
/// 2^bits − 1 steps with an integer zero point; symmetric: max|x| · clip on the signed grid
/// [−2^(bits−1), 2^(bits−1) − 1]. A slice of zeros stays zero. Gradient: identity (STE).
torch::Tensor fakeQuantizeActivations(const torch::Tensor& x, const ActivationQuantSpec& spec);

/// K or V [batch, heads, tokens, headDim] fake-quantized per (head, token) in groups of
/// spec.groupSize channels of the head dimension (0: the whole head).
torch::Tensor fakeQuantizeKeyValues(const torch::Tensor& kv, const KvQuantSpec& spec);

/// "W4A8", "W4A4KV4", "W3A16": the run's bits in the papers' notation.
std::string bitsLabel(int weightBits, const ActivationQuantSpec& activations, const KvQuantSpec& kv);

} // namespace core
