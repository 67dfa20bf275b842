#pragma once
// The stored form of a quantized Linear: integer codes plus the grid of each group,
// as an exporter or a kernel needs it (the dequantized float weights are derived).
// `groupIndex` maps every input column to its group, which is contiguous
// (column / group size) except after GPTQ's act-order, where groups follow the
// permuted column order (the "g_idx" of GPTQ checkpoints).

#include "quant/weight_quantizer.h"

#include <torch/torch.h>

namespace core {

struct QuantizedLinear {
    WeightQuantSpec spec;
    torch::Tensor codes;      ///< uint8 [rows, cols], values in [0, 2^bits − 1]
    torch::Tensor scale;      ///< float32 [rows, groups]
    torch::Tensor zero;       ///< float32 [rows, groups], integer-valued
    torch::Tensor groupIndex; ///< int64 [cols], values in [0, groups)

    std::int64_t rows() const { return codes.size(0); }
    std::int64_t columns() const { return codes.size(1); }
    std::int64_t groups() const { return scale.size(1); }

    /// scale[r, g(c)] · (codes[r, c] − zero[r, g(c)]) as float32 [rows, cols]; bit-identical
    /// to the fake-quantized weights the method produced.
    torch::Tensor dequantize() const;
};

/// Group of each column when groups are contiguous runs of `groupSize` columns (-1: one group).
torch::Tensor contiguousGroupIndex(std::int64_t columns, std::int64_t groupSize);

/// Recovers the codes of fake-quantized weights `dequantized` [rows, cols] on a known
/// grid. Throws core::Error when a weight is not on the grid (a method bug), naming `layer`.
QuantizedLinear encodeOnGrid(const torch::Tensor& dequantized, const torch::Tensor& scale, const torch::Tensor& zero,
                             const torch::Tensor& groupIndex, const WeightQuantSpec& spec, const std::string& layer);

/// Round-to-nearest of `weight` in stored form.
QuantizedLinear quantizeRtnStored(const torch::Tensor& weight, const WeightQuantSpec& spec);

} // namespace core
