#include "diagnostics/diagnostics_reader.h"

#include "diagnostics/diagnostics_layout.h"
#include "store/loss_curve_artifacts.h"
#include "store/run_artifacts.h"
#include "util/error.h"

#include <algorithm>

namespace core {
namespace {

namespace layout = diagnostics_layout;

HistogramPair readHistogramPair(const ArtifactFile& file, const std::string& path)
{
    const Int64Array counts = file.readInt64(path);
    const Int64Array outside = file.readInt64(path + "_outside");
    if (counts.shape.size() != 2 || counts.shape[0] != 2 || outside.values.size() != 6)
        throw Error(file.path() + ": " + path + " is not a [2, bins] histogram pair");
    HistogramPair pair;
    pair.lo = file.doubleAttribute(path, "lo");
    pair.hi = file.doubleAttribute(path, "hi");
    const auto bins = static_cast<std::ptrdiff_t>(counts.shape[1]);
    pair.fp.assign(counts.values.begin(), counts.values.begin() + bins);
    pair.quantized.assign(counts.values.begin() + bins, counts.values.end());
    std::copy_n(outside.values.begin(), 3, pair.fpOutside.begin());
    std::copy_n(outside.values.begin() + 3, 3, pair.quantizedOutside.begin());
    return pair;
}

std::optional<QsurSummary> readQsur(const ArtifactFile& file, const std::string& group, const std::string& name)
{
    const std::string spectrum = group + "/" + name + "_spectrum";
    if (!file.exists(spectrum))
        return std::nullopt;
    QsurSummary summary;
    summary.spectrum = file.readDouble(spectrum).values;
    summary.diagonal = file.readDouble(group + "/" + name + "_diagonal").values;
    summary.perDim = file.doubleAttribute(spectrum, "per_dim");
    summary.perDimNormalized = file.doubleAttribute(spectrum, "per_dim_normalized");
    summary.log10Qsur = file.doubleAttribute(spectrum, "log10_qsur");
    // Files written before the count was recorded have no attribute.
    if (file.hasAttribute(spectrum, "samples"))
        summary.samples = file.int64Attribute(spectrum, "samples");
    return summary;
}

std::optional<SaliencySummary> readSaliency(const ArtifactFile& file, const std::string& group)
{
    if (!file.exists(group + "/obs_map"))
        return std::nullopt;
    SaliencySummary s;
    s.obsMap = file.readFloat(group + "/obs_map");
    s.sensitivityMap = file.readFloat(group + "/sensitivity_map");
    s.poolRows = file.int64Attribute(group, "pool_rows");
    s.poolColumns = file.int64Attribute(group, "pool_columns");
    s.hessianDiagonal = file.readFloat(group + "/hessian_diag").values;
    const FloatArray profiles = file.readFloat(group + "/profiles");
    const auto cols = static_cast<std::ptrdiff_t>(profiles.shape.at(1));
    s.obsProfile.assign(profiles.values.begin(), profiles.values.begin() + cols);
    s.sensitivityProfile.assign(profiles.values.begin() + cols, profiles.values.end());
    const DoubleArray top = file.readDouble(group + "/top_obs");
    for (std::size_t i = 0; i + 2 < top.values.size(); i += 3)
        s.topObs.push_back({static_cast<std::int64_t>(top.values[i]), static_cast<std::int64_t>(top.values[i + 1]),
                            top.values[i + 2]});
    return s;
}

} // namespace

DiagnosticsReader::DiagnosticsReader(const std::string& artifactPath) : m_file(artifactPath, ArtifactMode::ReadOnly)
{
    if (!m_file.exists(layout::kDirections))
        throw Error(artifactPath + ": no diagnostics recorded (run with diagnostics.enabled = false?)");
}

std::vector<std::string> DiagnosticsReader::linearLayers() const
{
    std::vector<std::string> names;
    if (m_file.exists("/layers"))
        for (const auto& layer : m_file.children("/layers"))
            if (m_file.exists(layout::inputHistogram(layer)))
                names.push_back(layer);
    return names;
}

std::vector<std::string> DiagnosticsReader::blocks() const
{
    std::vector<std::string> names;
    if (m_file.exists("/layers"))
        for (const auto& layer : m_file.children("/layers"))
            if (m_file.exists(layout::projectionGroup(layer)))
                names.push_back(layer);
    return names;
}

bool DiagnosticsReader::hasLinear(const std::string& layer) const
{
    return m_file.exists(layout::inputHistogram(layer));
}

bool DiagnosticsReader::hasBlock(const std::string& block) const
{
    return m_file.exists(layout::projectionGroup(block));
}

LinearDiagnostics DiagnosticsReader::linear(const std::string& layer) const
{
    if (!hasLinear(layer))
        throw Error(m_file.path() + ": no diagnostics for Linear layer '" + layer + "'");
    LinearDiagnostics d;
    d.layer = layer;
    d.input = readHistogramPair(m_file, layout::inputHistogram(layer));
    d.weight = readHistogramPair(m_file, layout::weightHistogram(layer));
    const FloatArray channels = m_file.readFloat(layout::inputChannels(layer));
    const auto width = static_cast<std::ptrdiff_t>(channels.shape.at(1));
    for (std::size_t row = 0; row < d.channels.size(); ++row)
        d.channels[row].assign(channels.values.begin() + static_cast<std::ptrdiff_t>(row) * width,
                               channels.values.begin() + static_cast<std::ptrdiff_t>(row + 1) * width);
    const std::string qsur = layout::qsurGroup(layer);
    d.qsurInputFp = readQsur(m_file, qsur, "input_fp");
    d.qsurInputQuantized = readQsur(m_file, qsur, "input_quantized");
    d.qsurWeight = readQsur(m_file, qsur, "weight_fp");
    d.qsurInputBefore = readQsur(m_file, qsur, "input_before");
    d.qsurWeightBefore = readQsur(m_file, qsur, "weight_before");
    if (m_file.exists(layout::rotationInputHistogram(layer))) {
        d.rotationInput = readHistogramPair(m_file, layout::rotationInputHistogram(layer));
        const FloatArray absMax = m_file.readFloat(layout::rotationInputAbsMax(layer));
        const auto channelsOf = static_cast<std::ptrdiff_t>(absMax.shape.at(1));
        d.rotationAbsMax[0].assign(absMax.values.begin(), absMax.values.begin() + channelsOf);
        d.rotationAbsMax[1].assign(absMax.values.begin() + channelsOf, absMax.values.end());
    }
    d.saliency = readSaliency(m_file, layout::saliencyGroup(layer));
    d.outputAdaptiveSaliency = readSaliency(m_file, layout::outputAdaptiveSaliencyGroup(layer));
    const std::string quantized = quantizedLinearGroup(layer);
    if (m_file.exists(quantized + "/outlier_index")) {
        const std::int64_t cols = m_file.shape(quantized + "/codes").at(1);
        for (const std::int64_t flat : m_file.readInt64(quantized + "/outlier_index").values)
            d.outliers.emplace_back(flat / cols, flat % cols);
    }
    return d;
}

BlockDiagnostics DiagnosticsReader::block(const std::string& block) const
{
    if (!hasBlock(block))
        throw Error(m_file.path() + ": no diagnostics for block '" + block + "'");
    const std::string group = layout::projectionGroup(block);
    BlockDiagnostics d;
    d.block = block;
    d.output = readHistogramPair(m_file, layout::outputHistogram(block));
    d.w1 = m_file.readDouble(group + "/w1").values;
    d.w2 = m_file.readDouble(group + "/w2").values;
    d.histFp = m_file.readInt64(group + "/hist_fp");
    d.histQuantized = m_file.readInt64(group + "/hist_quantized");
    d.histEdges = m_file.readDouble(group + "/hist_edges");
    d.quantilesFp = m_file.readFloat(group + "/quantiles_fp");
    d.quantilesQuantized = m_file.readFloat(group + "/quantiles_quantized");
    d.loss = readLossCurve(m_file, block);
    return d;
}

FloatArray DiagnosticsReader::directions() const
{
    return m_file.readFloat(layout::kDirections);
}

std::vector<std::int64_t> DiagnosticsReader::salientColumns(const std::string& layer) const
{
    // The stored form's mask (store/run_artifacts.cpp), read without the tensor conversion.
    const std::string path = "/layers/" + layer + "/quant/salient_columns";
    std::vector<std::int64_t> columns;
    if (!m_file.exists(path))
        return columns;
    const ByteArray mask = m_file.readBytes(path);
    for (std::size_t c = 0; c < mask.values.size(); ++c)
        if (mask.values[c] != 0)
            columns.push_back(static_cast<std::int64_t>(c));
    return columns;
}

} // namespace core
