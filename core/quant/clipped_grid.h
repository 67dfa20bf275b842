#pragma once
// The weight grid of the rotation methods' code (OSTQuant utils/gptq_utils.py
// `WeightQuantizer`, itself QuaRot's, from GPTQ's quant.py; METHODS.md §7.2 item 5): per row of
// the given columns, with an optional search over shrunken ranges ("w_clip").
//   symmetric:  scale = max(−min(w, 0) / 2^(b−1), max(max(w, 0), 1e−6) / (2^(b−1) − 1)),
//               levels −2^(b−1) .. 2^(b−1) − 1 (the full signed range; zero = 2^(b−1) on our
//               unsigned grid [0, 2^b − 1])
//   asymmetric: scale = max(max(w, 0) − min(w, 0), 1e−5) / (2^b − 1), zero = round(−min / scale)
//   search:     p = 1 − i/100 for i = 0..79; the range is shrunk to p·[min, max] and the p with
//               the least Σ |Q(w) − w|^2.4 over the row is kept (first one on ties)
// The grid is our QuantGrid (scale, zero, maxq = 2^b − 1), so GPTQ, storage and export take it.

#include "quant/weight_quantizer.h"

namespace core {

struct ClipSearch {
    bool enabled = true;
    double norm = 2.4;
    int grid = 100;
    double maxShrink = 0.8;
};

/// The grid of each row of `columns` [rows, width] (one group per row): scale and zero [rows, 1].
QuantGrid fitClippedGrid(const torch::Tensor& columns, int bits, bool symmetric, const ClipSearch& search = {});

/// The same for every group of `weight` [rows, cols] (groupSize −1: per row): [rows, groups].
QuantGrid fitClippedGroups(const torch::Tensor& weight, int bits, bool symmetric, std::int64_t groupSize,
                           const ClipSearch& search = {});

} // namespace core
