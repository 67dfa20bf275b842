#pragma once
// Lazy, torch-free access to the diagnostics of one run's artifacts.h5 (layout in
// diagnostics_layout.h and the README): what `quantscope diag` prints and the GUI's
// inspector draws. Each call reads only the datasets of the layer asked for.
// Not thread-safe per object; open one reader per thread.

#include "loss/loss_curve.h"
#include "store/artifact_file.h"

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace core {

/// The FP and quantized histograms of one tensor on shared uniform edges [lo, hi).
struct HistogramPair {
    double lo = 0.0;
    double hi = 0.0;
    std::vector<std::int64_t> fp, quantized;                     ///< [bins]
    std::array<std::int64_t, 3> fpOutside{}, quantizedOutside{}; ///< underflow, overflow, NaN
};

struct QsurSummary {
    double perDim = 0.0;
    double perDimNormalized = 0.0;
    double log10Qsur = 0.0;
    std::int64_t samples = 0;     ///< tokens (inputs) or output rows (weights) in the covariance; 0 = not stored
    std::vector<double> spectrum; ///< eigenvalues / mean, descending
    std::vector<double> diagonal; ///< Σ_jj / mean(λ), per channel
};

struct SaliencySummary {
    FloatArray obsMap, sensitivityMap; ///< max-pooled [rows / poolRows, cols / poolColumns]
    std::int64_t poolRows = 1, poolColumns = 1;
    std::vector<float> hessianDiagonal, obsProfile, sensitivityProfile; ///< [cols]
    struct Entry {
        std::int64_t row = 0, column = 0;
        double value = 0.0;
    };
    std::vector<Entry> topObs;
};

struct LinearDiagnostics {
    std::string layer;
    HistogramPair input, weight;
    /// Per input channel: absmax, mean, std of the FP inputs, then of the quantized-stream inputs.
    std::array<std::vector<float>, 6> channels;
    std::optional<QsurSummary> qsurInputFp, qsurInputQuantized, qsurWeight;
    /// Runs of a rotation method (OSTQuant, QuaRot-, SpinQuant-style): QSUR of the input and of
    /// the weight rows in the original basis, before the transforms (the fields above are after).
    std::optional<QsurSummary> qsurInputBefore, qsurWeightBefore;
    /// The same runs: the FP input before (fp row) and after (quantized row) the transforms on
    /// shared edges, and its per-channel absmax before and after.
    std::optional<HistogramPair> rotationInput;
    std::array<std::vector<float>, 2> rotationAbsMax;
    std::optional<SaliencySummary> saliency;
    /// The same under OAC's output-adaptive Ĥ, for runs that quantized with it.
    std::optional<SaliencySummary> outputAdaptiveSaliency;
    /// Weights the method kept in full precision (SpQR's outliers), as (row, column).
    std::vector<std::pair<std::int64_t, std::int64_t>> outliers;
};

struct BlockDiagnostics {
    std::string block; ///< "model.layers.3"
    HistogramPair output;
    std::vector<double> w1, w2;                 ///< per direction
    Int64Array histFp, histQuantized;           ///< [directions, bins]
    DoubleArray histEdges;                      ///< [directions, 2]: lo, hi of each direction's bins
    FloatArray quantilesFp, quantilesQuantized; ///< [directions, levels + 1]
    std::optional<BlockLossCurve> loss;         ///< training loss per step (methods that learn)
};

class DiagnosticsReader {
public:
    /// Throws core::Error naming the file when it is missing, truncated or has no diagnostics.
    explicit DiagnosticsReader(const std::string& artifactPath);

    std::vector<std::string> linearLayers() const; ///< layers with input histograms, sorted by name
    std::vector<std::string> blocks() const;       ///< layers with projected distributions
    bool hasLinear(const std::string& layer) const;
    bool hasBlock(const std::string& block) const;
    LinearDiagnostics linear(const std::string& layer) const; ///< Error naming the layer when absent
    BlockDiagnostics block(const std::string& block) const;
    FloatArray directions() const; ///< [directions, hidden]
    /// The input columns a structured-mask Linear (PTQ1.61) keeps at its salient bits, ascending;
    /// empty for any other stored form (or a layer without stored weights).
    std::vector<std::int64_t> salientColumns(const std::string& layer) const;

private:
    ArtifactFile m_file;
};

} // namespace core
