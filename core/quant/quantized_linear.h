#pragma once
// The stored form of a quantized Linear: integer codes plus the grid of each group,
// as an exporter or a kernel needs it (the dequantized float weights are derived).
// `groupIndex` maps every input column to its group, which is contiguous
// (column / group size) except after GPTQ's act-order, where groups follow the
// permuted column order (the "g_idx" of GPTQ checkpoints).
//
// Two extensions (issue 16): SpQR keeps unstructured outliers in full precision beside the
// codes (sparse: flat index and value) and quantizes the grid itself (statisticBits); BiLLM's
// binarized weights are not on an affine grid and use the codebook form instead: per row a few
// small tables of levels, each weight a code into the table its tableIndex names.
// A third (issue 18): PTQ1.61's structured mask keeps a few input columns on the affine grid and
// binarizes the rest with per-row and per-column scales (quant/structured_mask.h).

#include "quant/weight_quantizer.h"

#include <torch/torch.h>

#include <limits>

namespace core {

struct QuantizedLinear {
    WeightQuantSpec spec;
    torch::Tensor codes;      ///< uint8 [rows, cols], values in [0, 2^bits − 1]
    torch::Tensor scale;      ///< float32 [rows, groups]
    torch::Tensor zero;       ///< float32 [rows, groups], integer-valued
    torch::Tensor groupIndex; ///< int64 [cols], values in [0, groups)

    /// SpQR's second-level quantization of the grid: scale and zero of each group are stored at
    /// this many bits, in groups of statisticGroupSize consecutive rows (0: 16-bit scale, zero
    /// at the weights' bits). `scale`/`zero` then hold the dequantized statistics.
    int statisticBits = 0;
    std::int64_t statisticGroupSize = 0;
    /// Unstructured full-precision outliers: flat indices row·cols + col (int64 [k], ascending)
    /// and their values (float32 [k]); undefined or empty: none. They replace the grid's value.
    torch::Tensor outlierIndex;
    torch::Tensor outlierValue;

    /// Codebook form (BiLLM): levels float32 [rows, tables, levelsPerTable] and the table of
    /// each weight, uint8 [rows, cols]; `codes` index into that table's levels. Undefined
    /// `levels`: the affine form above.
    torch::Tensor levels;
    torch::Tensor tableIndex;
    /// Codebook form: each run of this many columns has tables of its own (BiLLM: per block of
    /// 128 columns) and tableIndex counts within the run: the table of weight (r, c) is
    /// (c / tableColumns) · tablesPerRun + tableIndex[r, c]. 0: one run, tableIndex is global.
    std::int64_t tableColumns = 0;
    /// Bits of the stored form as the method's paper counts them (BiLLM: signs, masks and
    /// per-part statistics); NaN: counted from the affine form (quant/storage_bits.h).
    double methodBits = std::numeric_limits<double>::quiet_NaN();

    /// Structured-mask form (PTQ1.61): `salientColumns` (bool [cols]) marks the input columns whose
    /// codes lie on the affine grid above (one group per row); every other column is binarized:
    /// its code 0, 1 or 2 stands for sign(w − μ_r) = −1, 0, +1 and its weight is
    /// (r1_r · r2_c) · (α_r · sign + μ_r). Undefined `salientColumns`: not this form.
    torch::Tensor salientColumns; ///< bool [cols]
    torch::Tensor binaryMean;     ///< μ, float32 [rows]
    torch::Tensor binaryScale;    ///< α, float32 [rows]
    torch::Tensor rowScale;       ///< r1, float32 [rows]
    torch::Tensor columnScale;    ///< r2, float32 [cols]

    bool isCodebook() const { return levels.defined(); }
    bool isStructuredMask() const { return salientColumns.defined(); }
    /// Codebook form: the number of column runs with tables of their own (1 when tableColumns is 0).
    std::int64_t tableRuns() const { return tableColumns > 0 ? (columns() + tableColumns - 1) / tableColumns : 1; }
    /// True when groupIndex is not column / group size (act-order): it must then be stored.
    bool hasScatteredGroups() const;
    std::int64_t outliers() const { return outlierIndex.defined() ? outlierIndex.numel() : 0; }

    std::int64_t rows() const { return codes.size(0); }
    std::int64_t columns() const { return codes.size(1); }
    std::int64_t groups() const { return scale.size(1); }

    /// scale[r, g(c)] · (codes[r, c] − zero[r, g(c)]) (codebook: levels[r, table[r, c], codes[r, c]])
    /// as float32 [rows, cols], outliers written over; bit-identical to the weights the method
    /// produced.
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
