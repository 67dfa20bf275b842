#pragma once
// Records the per-block and per-Linear diagnostics of a calibration run (issue 6,
// METHODS.md §11) while the block pipeline runs, writes their arrays to the run's
// artifacts.h5 and returns their scalars as catalog rows.
//
// Per block the pipeline calls, in order:
//   beginBlock → a pass over the first kRangeSamples windows of the FP stream with
//   fpRangeObserver() (FP input ranges: the histogram edges must be fixed before
//   counting, and a sample of windows bounds the cost of this extra pass) → the FP
//   stream's advance with fpCountObserver() (FP input histograms, channel statistics,
//   moments) → the method → the quantized stream's advance with quantizedObserver()
//   → finishBlock.
// Linears that read the same input (q/k/v, gate/up) share one input record.
// Not thread-safe; used from the pipeline's thread.

#include "config/run_config.h"
#include "io/model_config.h"
#include "model/decoder_forward.h"
#include "store/artifact_file.h"
#include "store/catalog.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace core {

class DiagnosticsRecorder {
public:
    DiagnosticsRecorder(const DiagnosticsConfig& config, const ModelConfig& model, ArtifactFile& artifacts);
    ~DiagnosticsRecorder();

    void beginBlock(std::int64_t blockIndex, const std::string& prefix, const BlockWeights& fpWeights);
    /// Windows the range pass looks at (all of them when there are fewer).
    static constexpr std::int64_t kRangeSamples = 16;

    const ForwardHooks& fpRangeObserver() const { return m_fpRangeObserver; }
    const ForwardHooks& fpCountObserver() const { return m_fpCountObserver; }
    const ForwardHooks& quantizedObserver() const { return m_quantizedObserver; }

    /// Computes the block's diagnostics from the finished streams ([samples, T, H] each)
    /// and the Hessians the method published (2XXᵀ, and OAC's Ĥ when it quantized with it),
    /// writes them to the artifacts and returns the scalar metrics (per Linear, and per block
    /// under the block's name "model.layers.i").
    std::vector<LayerMetric> finishBlock(const BlockWeights& quantizedWeights, const torch::Tensor& fpOutputs,
                                         const torch::Tensor& quantizedOutputs,
                                         const std::map<std::string, torch::Tensor>& hessians,
                                         const std::map<std::string, torch::Tensor>& outputAdaptiveHessians = {});

private:
    struct InputRecord;
    InputRecord* recordFor(const std::string& layer);
    void finishLinear(const std::string& shortName, const BlockWeights& quantizedWeights,
                      const std::map<std::string, torch::Tensor>& hessians,
                      const std::map<std::string, torch::Tensor>& outputAdaptiveHessians,
                      std::vector<LayerMetric>& metrics);
    void finishBlockOutput(const torch::Tensor& fpOutputs, const torch::Tensor& quantizedOutputs,
                           std::vector<LayerMetric>& metrics);

    DiagnosticsConfig m_config;
    ModelConfig m_model;
    ArtifactFile& m_artifacts;
    torch::Tensor m_directions;                       ///< [projections, hidden]
    std::map<std::string, std::string> m_inputLeader; ///< Linear short name → short name owning its input record
    std::int64_t m_blockIndex = 0;
    std::string m_prefix;
    const BlockWeights* m_fpWeights = nullptr;
    std::map<std::string, std::unique_ptr<InputRecord>> m_inputs;           ///< by leader short name
    ForwardHooks m_fpRangeObserver, m_fpCountObserver, m_quantizedObserver; ///< one observer each
};

} // namespace core
