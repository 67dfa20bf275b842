#pragma once
// Effective bits per weight of a stored Linear (issue 16 §6): everything a kernel would need to
// rebuild the weights, counted the way the quantization papers count it, divided by the number
// of weights. The conventions (README, "Effective bits"):
// - codes: `bits` per weight;
// - the grid of each (row, group): a 16-bit scale, and a zero point at the weights' bit width
//   (as GPTQ checkpoints pack it; a 16-bit float when it is not an integer, as SpQR's unrounded
//   zero; none when symmetric);
// - SpQR's quantized grid (statisticBits > 0): statisticBits for the scale and for the zero of
//   each group, plus, per statisticGroupSize rows of one column group, a 16-bit scale and zero
//   of each of the two second-level quantizers (64 bits) — SpQR paper §4.1's count (symmetric:
//   the scale's only);
// - outliers: 32 bits each (16-bit value, 16-bit column index; SpQR paper §4.2);
// - act-order's column → group index, when not contiguous: 32 bits per input column;
// - a codebook form (BiLLM) carries its method's own count (QuantizedLinear::methodBits).

#include "quant/quantized_linear.h"

namespace core {

/// Total bits of the stored form.
double storedBits(const QuantizedLinear& stored);
/// storedBits / (rows · cols).
double effectiveBitsPerWeight(const QuantizedLinear& stored);

} // namespace core
