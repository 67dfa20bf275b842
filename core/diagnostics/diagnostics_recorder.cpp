#include "diagnostics/diagnostics_recorder.h"

#include "calib/calibration_method.h"
#include "diagnostics/diagnostics_layout.h"
#include "diagnostics/diagnostics_writers.h"
#include "metrics/histogram.h"
#include "metrics/qsur.h"
#include "metrics/saliency.h"
#include "metrics/sliced_wasserstein.h"
#include "model/weight_layout.h"
#include "quant/weight_quantizer.h"
#include "store/tensor_arrays.h"
#include "util/error.h"

#include <cmath>
#include <limits>

namespace core {

namespace layout = diagnostics_layout;

struct DiagnosticsRecorder::InputRecord {
    explicit InputRecord(std::int64_t channels, bool qsur) : fpStats(channels), quantizedStats(channels)
    {
        if (qsur) {
            fpMoments.emplace(channels);
            quantizedMoments.emplace(channels);
        }
    }
    RangeAccumulator fpRange;
    ChannelStatsAccumulator fpStats, quantizedStats;
    std::optional<MomentAccumulator> fpMoments, quantizedMoments;
    std::optional<HistogramAccumulator> fpHistogram, quantizedHistogram;
};

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string shortNameOf(const std::string& layer, const std::string& prefix)
{
    return layer.rfind(prefix, 0) == 0 ? layer.substr(prefix.size()) : std::string();
}

HistogramEdges fpEdges(const torch::Tensor& fp, std::int64_t bins)
{
    RangeAccumulator range;
    range.add(fp);
    return edgesForRange(range.min(), range.max(), bins);
}

// Feeds the first `limit` rows (tokens) of `input` that the accumulator still takes
// (limit 0 = every row). QSUR needs a covariance, and its GEMM over every calibration token
// was the largest cost of recording; a fixed prefix keeps FP and quantized on the same tokens.
void addMomentsUpTo(MomentAccumulator& moments, const torch::Tensor& input, std::int64_t limit)
{
    if (limit <= 0) {
        moments.add(input);
        return;
    }
    const std::int64_t wanted = limit - moments.rows();
    if (wanted <= 0)
        return;
    const torch::Tensor rows = input.reshape({-1, input.size(-1)});
    moments.add(rows.size(0) <= wanted ? rows : rows.narrow(0, 0, wanted));
}

double sqnrDb(double signal, double noise)
{
    return noise > 0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
}

void writeSaliency(ArtifactFile& artifacts, const std::string& group, const SaliencyResult& s)
{
    artifacts.write(group + "/hessian_diag", toFloatArray(s.hessianDiagonal));
    artifacts.write(group + "/obs_map", toFloatArray(s.obs.values));
    artifacts.write(group + "/sensitivity_map", toFloatArray(s.sensitivity.values));
    artifacts.setAttribute(group, "pool_rows", s.obs.poolRows);
    artifacts.setAttribute(group, "pool_columns", s.obs.poolColumns);
    artifacts.write(group + "/profiles", toFloatArray(torch::stack({s.obsProfile, s.sensitivityProfile})));
    DoubleArray top{{static_cast<std::int64_t>(s.topObs.size()), 3}, {}};
    for (const SalientWeight& w : s.topObs)
        top.values.insert(top.values.end(), {static_cast<double>(w.row), static_cast<double>(w.column), w.value});
    artifacts.write(group + "/top_obs", top);
}

} // namespace

DiagnosticsRecorder::DiagnosticsRecorder(const DiagnosticsConfig& config, const ModelConfig& model,
                                         ArtifactFile& artifacts)
    : m_config(config), m_model(model), m_artifacts(artifacts)
{
    m_directions = randomUnitDirections(config.projections, model.hiddenSize, config.projectionSeed);
    m_artifacts.write(layout::kDirections, toFloatArray(m_directions));
    m_artifacts.setAttribute(layout::kDirections, "seed", static_cast<std::int64_t>(config.projectionSeed));
    m_artifacts.setAttribute("/diagnostics", "histogram_bins", config.histogramBins);
    m_artifacts.setAttribute("/diagnostics", "quantile_levels", config.quantileLevels);
    for (const auto& group : sequentialLinearGroups(model.family))
        for (const auto& name : group)
            m_inputLeader[name] = group.front();

    m_fpRangeObserver = observing([this](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
        if (InputRecord* record = recordFor(layer))
            record->fpRange.add(input);
    });
    m_fpCountObserver = observing([this](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
        if (InputRecord* record = recordFor(layer)) {
            if (!record->fpHistogram) {
                // The range comes from the first kRangeSamples windows only: a wider margin
                // keeps the rest in range, and anything beyond is counted as overflow.
                const HistogramEdges edges =
                    edgesForRange(record->fpRange.min(), record->fpRange.max(), m_config.histogramBins, 0.05);
                record->fpHistogram.emplace(edges);
                record->quantizedHistogram.emplace(edges);
            }
            record->fpHistogram->add(input);
            record->fpStats.add(input);
            if (record->fpMoments)
                addMomentsUpTo(*record->fpMoments, input, m_config.qsurTokens);
        }
    });
    m_quantizedObserver = observing([this](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
        if (InputRecord* record = recordFor(layer)) {
            if (!record->quantizedHistogram)
                throw Error("diagnostics: quantized inputs of " + layer + " seen before the FP pass (internal error)");
            record->quantizedHistogram->add(input);
            record->quantizedStats.add(input);
            if (record->quantizedMoments)
                addMomentsUpTo(*record->quantizedMoments, input, m_config.qsurTokens);
        }
    });
}

DiagnosticsRecorder::~DiagnosticsRecorder() = default;

void DiagnosticsRecorder::beginBlock(std::int64_t blockIndex, const std::string& prefix, const BlockWeights& fpWeights)
{
    m_blockIndex = blockIndex;
    m_prefix = prefix;
    m_fpWeights = &fpWeights;
    m_inputs.clear();
}

DiagnosticsRecorder::InputRecord* DiagnosticsRecorder::recordFor(const std::string& layer)
{
    const auto leader = m_inputLeader.find(shortNameOf(layer, m_prefix));
    // Only the first Linear of a group records: the others read the very same tensor.
    if (leader == m_inputLeader.end() || m_prefix + leader->second != layer)
        return nullptr;
    auto& record = m_inputs[leader->second];
    if (!record)
        record = std::make_unique<InputRecord>(m_fpWeights->at(leader->second + ".weight").size(1), m_config.qsur);
    return record.get();
}

std::vector<LayerMetric>
DiagnosticsRecorder::finishBlock(const BlockWeights& quantizedWeights, const torch::Tensor& fpOutputs,
                                 const torch::Tensor& quantizedOutputs,
                                 const std::map<std::string, torch::Tensor>& hessians,
                                 const std::map<std::string, torch::Tensor>& outputAdaptiveHessians)
{
    torch::NoGradGuard noGrad;
    std::vector<LayerMetric> metrics;
    for (const auto& shortName : linearShortNames(m_model.family))
        finishLinear(shortName, quantizedWeights, hessians, outputAdaptiveHessians, metrics);
    finishBlockOutput(fpOutputs, quantizedOutputs, metrics);
    m_artifacts.flush();
    m_inputs.clear();
    return metrics;
}

void DiagnosticsRecorder::finishLinear(const std::string& shortName, const BlockWeights& quantizedWeights,
                                       const std::map<std::string, torch::Tensor>& hessians,
                                       const std::map<std::string, torch::Tensor>& outputAdaptiveHessians,
                                       std::vector<LayerMetric>& metrics)
{
    const std::string layer = m_prefix + shortName;
    const auto add = [&](const std::string& metric, double value) {
        metrics.push_back({layer, m_blockIndex, metric, value});
    };
    const torch::Tensor& fpWeight = m_fpWeights->at(shortName + ".weight");
    const torch::Tensor& quantizedWeight = quantizedWeights.at(shortName + ".weight");

    // Inputs: histograms, channel statistics, QSUR.
    const InputRecord& input = *m_inputs.at(m_inputLeader.at(shortName));
    const Histogram& fpInput = input.fpHistogram->histogram();
    const Histogram& quantizedInput = input.quantizedHistogram->histogram();
    writeHistogramPair(m_artifacts, layout::inputHistogram(layer), fpInput, quantizedInput);
    add("input_kl", histogramKl(fpInput, quantizedInput));
    const torch::Tensor channels =
        torch::stack({input.fpStats.absMax(), input.fpStats.mean(), input.fpStats.std(), input.quantizedStats.absMax(),
                      input.quantizedStats.mean(), input.quantizedStats.std()});
    m_artifacts.write(layout::inputChannels(layer), toFloatArray(channels));
    const torch::Tensor absMax = input.fpStats.absMax();
    add("input_absmax_ratio", (absMax.max() / absMax.median().clamp_min(1e-30)).item<double>());

    // Weights: histograms on the FP weight range.
    const HistogramEdges weightEdges = fpEdges(fpWeight, m_config.histogramBins);
    writeHistogramPair(m_artifacts, layout::weightHistogram(layer), histogramOf(fpWeight, weightEdges),
                       histogramOf(quantizedWeight, weightEdges));

    if (m_config.qsur) {
        const std::string group = layout::qsurGroup(layer);
        const QsurResult fp = qsurFromMoments(input.fpMoments->mean(), input.fpMoments->covariance());
        const QsurResult quantized =
            qsurFromMoments(input.quantizedMoments->mean(), input.quantizedMoments->covariance());
        writeQsur(m_artifacts, group, "input_fp", fp, input.fpMoments->rows());
        writeQsur(m_artifacts, group, "input_quantized", quantized, input.quantizedMoments->rows());
        add("qsur_input_fp", fp.perDim);
        add("qsur_input_quantized", quantized.perDim);
        // A weight has one sample per output channel: fewer samples than input channels
        // leave the covariance singular, and the number would be meaningless.
        if (fpWeight.size(0) >= fpWeight.size(1)) {
            const QsurResult weight = qsur(fpWeight);
            writeQsur(m_artifacts, group, "weight_fp", weight, fpWeight.size(0));
            add("qsur_weight", weight.perDim);
        } else {
            add("qsur_weight", kNaN);
        }
    }

    const auto hessian = hessians.find(shortName);
    if (m_config.saliency && hessian != hessians.end()) {
        const SaliencyResult s = hessianSaliency(fpWeight, quantizedWeight, hessian->second, 0.01,
                                                 m_config.saliencyTopK, m_config.saliencyMapSize);
        writeSaliency(m_artifacts, layout::saliencyGroup(layer), s);
        add("saliency_mean", s.meanObs);
        add("sensitivity_mean", s.meanSensitivity);
        const auto outputAdaptive = outputAdaptiveHessians.find(shortName);
        if (outputAdaptive != outputAdaptiveHessians.end()) {
            const SaliencyResult oac = hessianSaliency(fpWeight, quantizedWeight, outputAdaptive->second, 0.01,
                                                       m_config.saliencyTopK, m_config.saliencyMapSize);
            writeSaliency(m_artifacts, layout::outputAdaptiveSaliencyGroup(layer), oac);
            // How far OAC's choice of salient weights departs from GPTQ's (issue 16 §5).
            add("saliency_topk_jaccard", topSalientJaccard(s.topObs, oac.topObs));
            add("saliency_column_spearman", spearmanCorrelation(s.obsProfile, oac.obsProfile));
        }
    }
}

void DiagnosticsRecorder::finishBlockOutput(const torch::Tensor& fpOutputs, const torch::Tensor& quantizedOutputs,
                                            std::vector<LayerMetric>& metrics)
{
    const std::string block = m_prefix.substr(0, m_prefix.size() - 1); // "model.layers.3"
    const auto add = [&](const std::string& metric, double value) {
        metrics.push_back({block, m_blockIndex, metric, value});
    };
    const HistogramEdges edges = fpEdges(fpOutputs, m_config.histogramBins);
    const Histogram fp = histogramOf(fpOutputs, edges);
    const Histogram quantized = histogramOf(quantizedOutputs, edges);
    writeHistogramPair(m_artifacts, layout::outputHistogram(block), fp, quantized);
    add("out_kl", histogramKl(fp, quantized));

    const torch::Tensor a = fpOutputs.reshape({-1}).to(torch::kFloat64);
    const torch::Tensor b = quantizedOutputs.reshape({-1}).to(torch::kFloat64);
    const double signal = a.pow(2).sum().item<double>();
    const double noise = (a - b).pow(2).sum().item<double>();
    add("out_mse", noise / static_cast<double>(a.numel()));
    add("out_sqnr_db", sqnrDb(signal, noise));
    add("out_cosine", ((a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-300)).item<double>());

    // Projected distributions (METHODS.md §11.2): the same directions in every block and run.
    const torch::Tensor fpProjected = projectOnto(fpOutputs, m_directions);
    const torch::Tensor quantizedProjected = projectOnto(quantizedOutputs, m_directions);
    const ProjectedDistances distances = projectedDistances(fpProjected, quantizedProjected);
    add("sw1", distances.sw1);
    add("sw2", distances.sw2);
    const std::string group = layout::projectionGroup(block);
    m_artifacts.write(group + "/w1", toDoubleArray(distances.w1));
    m_artifacts.write(group + "/w2", toDoubleArray(distances.w2));
    m_artifacts.write(group + "/quantiles_fp", toFloatArray(columnQuantiles(fpProjected, m_config.quantileLevels)));
    m_artifacts.write(group + "/quantiles_quantized",
                      toFloatArray(columnQuantiles(quantizedProjected, m_config.quantileLevels)));
    // Per direction: histograms on edges from that direction's FP range.
    const std::int64_t directions = m_directions.size(0), bins = m_config.histogramBins;
    Int64Array fpCounts{{directions, bins}, {}}, quantizedCounts{{directions, bins}, {}};
    DoubleArray ranges{{directions, 2}, {}};
    for (std::int64_t k = 0; k < directions; ++k) {
        const HistogramEdges e = fpEdges(fpProjected.select(1, k), bins);
        const Histogram hf = histogramOf(fpProjected.select(1, k), e);
        const Histogram hq = histogramOf(quantizedProjected.select(1, k), e);
        fpCounts.values.insert(fpCounts.values.end(), hf.counts.begin(), hf.counts.end());
        quantizedCounts.values.insert(quantizedCounts.values.end(), hq.counts.begin(), hq.counts.end());
        ranges.values.insert(ranges.values.end(), {e.lo, e.hi});
    }
    m_artifacts.write(group + "/hist_fp", fpCounts);
    m_artifacts.write(group + "/hist_quantized", quantizedCounts);
    m_artifacts.write(group + "/hist_edges", ranges);
}

} // namespace core
