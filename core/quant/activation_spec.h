#pragma once
// What the run quantizes besides the weights (issue 15 §4): every Linear input of the blocks
// and K/V after RoPE, as dynamic fake-quant. Torch-free: the run config holds these.

#include <cstdint>
#include <string>

namespace core {

/// Bits that mean "not quantized" (float activations / KV cache).
constexpr int kUnquantizedBits = 16;

enum class ActivationGranularity {
    PerToken,  ///< one range per token (row of the Linear's input)
    PerTensor, ///< one range per input tensor (a batch's forward)
};

struct ActivationQuantSpec {
    int bits = kUnquantizedBits; ///< 16 = off; 2..8 quantize
    ActivationGranularity granularity = ActivationGranularity::PerToken;
    bool symmetric = false;
    double clipRatio = 1.0; ///< the range is scaled by this before the grid is fitted, (0, 1]
    bool enabled() const { return bits < kUnquantizedBits; }
    bool operator==(const ActivationQuantSpec&) const = default;
};

struct KvQuantSpec {
    int bits = kUnquantizedBits; ///< 16 = off; 2..8 quantize
    std::int64_t groupSize = 0;  ///< channels of the head dimension per group; 0 = the whole head
    bool symmetric = false;
    double clipRatio = 1.0;
    bool enabled() const { return bits < kUnquantizedBits; }
    bool operator==(const KvQuantSpec&) const = default;
};

/// "per_token" / "per_tensor" (the run config's spelling).
std::string granularityName(ActivationGranularity granularity);

/// "W4A16", "W4A4KV4": the run's bits in the papers' notation (KV only when quantized).
std::string bitsLabel(int weightBits, const ActivationQuantSpec& activations, const KvQuantSpec& kv);

} // namespace core
