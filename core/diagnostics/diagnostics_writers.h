#pragma once
// The array records the diagnostics write (layout in diagnostics_layout.h and the README),
// shared by the block recorder and the basis comparison of the rotation methods.

#include "metrics/histogram.h"
#include "metrics/qsur.h"
#include "store/artifact_file.h"

#include <string>

namespace core {

/// Counts as int64 [2, bins] (row 0 full precision — or the original basis —, row 1 quantized —
/// or the transformed basis), the shared edges as attributes, and [2, 3] under/overflow/NaN
/// counts beside them.
void writeHistogramPair(ArtifactFile& file, const std::string& path, const Histogram& first, const Histogram& second);

/// `values` counted on `edges`.
Histogram histogramOf(const torch::Tensor& values, const HistogramEdges& edges);

/// A QSUR result under `group`/`name`_spectrum and _diagonal, with its scalars as attributes.
void writeQsur(ArtifactFile& file, const std::string& group, const std::string& name, const QsurResult& result,
               std::int64_t samples);

} // namespace core
