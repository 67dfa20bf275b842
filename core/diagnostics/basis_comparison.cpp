#include "diagnostics/basis_comparison.h"

#include "diagnostics/diagnostics_layout.h"
#include "diagnostics/diagnostics_writers.h"
#include "model/weight_layout.h"
#include "store/tensor_arrays.h"

#include <cmath>
#include <limits>
#include <map>

namespace core {
namespace {

namespace layout = diagnostics_layout;

// Every Linear's input [rows, width] of one block pass, by short name.
std::map<std::string, torch::Tensor> capturedInputs(const ModelConfig& config, const BlockWeights& block,
                                                    torch::Tensor& hidden, const AttentionContext& attention,
                                                    const std::string& prefix)
{
    std::map<std::string, torch::Tensor> inputs;
    const ForwardHooks hooks =
        observing([&](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
            inputs[layer.substr(prefix.size())] = input.reshape({-1, input.size(-1)}).clone();
        });
    hidden = decoderBlock(config, block, hidden, attention, prefix, &hooks);
    return inputs;
}

double absMaxRatio(const torch::Tensor& absMax)
{
    return (absMax.max() / absMax.median().clamp_min(1e-30)).item<double>();
}

torch::Tensor firstRows(const torch::Tensor& rows, std::int64_t limit)
{
    return limit > 0 && rows.size(0) > limit ? rows.narrow(0, 0, limit) : rows;
}

} // namespace

std::vector<LayerMetric> recordBasisComparison(const DecoderModel& original,
                                               const std::vector<BlockWeights>& transformed,
                                               const GlobalWeights& transformedGlobals, const torch::Tensor& windows,
                                               const AttentionContext& attention, const DiagnosticsConfig& config,
                                               ArtifactFile& artifacts, const CancelToken& cancel)
{
    torch::NoGradGuard noGrad;
    const ModelConfig& model = original.config();
    std::vector<LayerMetric> metrics;
    torch::Tensor before = original.embed(windows);
    torch::Tensor after = embedTokens(model, transformedGlobals, windows);
    for (std::int64_t b = 0; b < model.numLayers; ++b) {
        cancel.throwIfCancelled();
        const std::string prefix = blockPrefix(model, b);
        const BlockWeights& originalBlock = original.block(b);
        const auto inputsBefore = capturedInputs(model, originalBlock, before, attention, prefix);
        const auto inputsAfter =
            capturedInputs(model, transformed[static_cast<std::size_t>(b)], after, attention, prefix);
        for (const auto& [shortName, x] : inputsBefore) {
            const std::string layer = prefix + shortName;
            const torch::Tensor& y = inputsAfter.at(shortName);
            const auto add = [&](const std::string& name, double value) { metrics.push_back({layer, b, name, value}); };
            // One histogram range for both bases, so that the two overlay.
            const double lo = std::min(x.min().item<double>(), y.min().item<double>());
            const double hi = std::max(x.max().item<double>(), y.max().item<double>());
            const HistogramEdges edges = edgesForRange(lo, hi, config.histogramBins);
            writeHistogramPair(artifacts, layout::rotationInputHistogram(layer), histogramOf(x, edges),
                               histogramOf(y, edges));
            const torch::Tensor absBefore = std::get<0>(x.abs().max(0)).to(torch::kFloat64);
            const torch::Tensor absAfter = std::get<0>(y.abs().max(0)).to(torch::kFloat64);
            artifacts.write(layout::rotationInputAbsMax(layer), toFloatArray(torch::stack({absBefore, absAfter})));
            add("input_absmax_ratio_before", absMaxRatio(absBefore));
            add("input_absmax_ratio_rotated", absMaxRatio(absAfter));
            if (!config.qsur)
                continue;
            const std::string group = layout::qsurGroup(layer);
            const torch::Tensor rows = firstRows(x, config.qsurTokens);
            const QsurResult input = qsur(rows);
            writeQsur(artifacts, group, "input_before", input, rows.size(0));
            add("qsur_input_before", input.perDim);
            const torch::Tensor& weight = originalBlock.at(shortName + ".weight");
            if (weight.size(0) >= weight.size(1)) { // as the recorder: fewer rows leave Σ singular
                const QsurResult rowsQsur = qsur(weight);
                writeQsur(artifacts, group, "weight_before", rowsQsur, weight.size(0));
                add("qsur_weight_before", rowsQsur.perDim);
            } else {
                add("qsur_weight_before", std::numeric_limits<double>::quiet_NaN());
            }
        }
    }
    return metrics;
}

} // namespace core
