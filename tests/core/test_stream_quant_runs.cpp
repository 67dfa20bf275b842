// Runs that quantize activations and the KV cache (issue 15 §4) end to end, and the
// diagnostics of a method that changes the block's basis (LET, §5): config sections, the
// quantized stream and evaluation, export's quantization.json v2.

#include "config/run_config.h"
#include "diagnostics/diagnostics_reader.h"
#include "jobs/calibrate_job.h"
#include "jobs/export_job.h"
#include "small_run.h"
#include "store/workspace.h"
#include "tiny_model_files.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <numeric>

namespace fs = std::filesystem;

namespace {

// Half the L1 distance of two histograms as distributions: 0 identical, 1 disjoint.
double totalVariation(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b)
{
    const double sumA = static_cast<double>(std::accumulate(a.begin(), a.end(), std::int64_t(0)));
    const double sumB = static_cast<double>(std::accumulate(b.begin(), b.end(), std::int64_t(0)));
    double distance = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i)
        distance += std::abs(static_cast<double>(a[i]) / sumA - static_cast<double>(b[i]) / sumB);
    return distance / 2.0;
}

double metricOf(const core::Catalog& catalog, std::int64_t runId, const std::string& layer, const std::string& name)
{
    for (const auto& metric : catalog.layerMetrics(runId))
        if (metric.layer == layer && metric.metric == name)
            return metric.value;
    throw core::Error("no metric " + name + " for " + layer);
}

} // namespace

class TestStreamQuantRuns : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    testsupport::SmallRunFiles m_files;

    core::RunConfig smallConfig(const std::string& method, int weightBits, int activationBits, int kvBits) const
    {
        core::RunConfig config = testsupport::smallRunConfig(m_files, method);
        config.weights.bits = weightBits;
        config.activations.bits = activationBits;
        config.kv.bits = kvBits;
        return config;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("stream-quant");
        m_files = testsupport::writeSmallRunFiles(m_dir, 3);
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void configSectionsRoundTripAndNameTheirKeys()
    {
        core::RunConfig config = smallConfig("rtn", 4, 4, 4);
        config.activations.granularity = core::ActivationGranularity::PerTensor;
        config.activations.clipRatio = 0.9;
        config.kv.groupSize = 8;
        const core::RunConfig parsed = core::parseRunConfig(core::runConfigToJson(config));
        QVERIFY(parsed.activations == config.activations);
        QVERIFY(parsed.kv == config.kv);
        QCOMPARE(core::runDisplayName(parsed), std::string("rtn w4g16 W4A4KV4"));
        // A config from before these sections is a weight-only run.
        const core::RunConfig old = core::parseRunConfig(R"({"method": "rtn"})");
        QVERIFY(!old.activations.enabled() && !old.kv.enabled());
        const std::pair<const char*, const char*> bad[] = {
            {R"({"method": "rtn", "activations": {"bits": 12}})", "activations.bits must be in 2..8, or 16"},
            {R"({"method": "rtn", "activations": {"granularity": "per_channel"}})", "activations.granularity"},
            {R"({"method": "rtn", "activations": {"clip_ratio": 0}})", "activations.clip_ratio must be in (0, 1]"},
            {R"({"method": "rtn", "kv": {"bits": 1}})", "kv.bits must be in 2..8"},
            {R"({"method": "rtn", "kv": {"group_size": -4}})", "kv.group_size must be >= 1"},
            {R"({"method": "rtn", "kv": {"bit": 4}})", "unknown key 'kv.bit'"},
        };
        for (const auto& [json, expected] : bad) {
            try {
                core::parseRunConfig(json);
                QFAIL(json);
            } catch (const core::Error& e) {
                QVERIFY2(QString(e.what()).contains(expected), e.what());
            }
        }
    }

    void kvGroupSizeMustDivideTheHead()
    {
        core::Workspace workspace(m_dir + "/ws-kv-group");
        core::RunConfig config = smallConfig("rtn", 4, 16, 4);
        config.kv.groupSize = 5; // the tiny model's heads have 8 channels
        try {
            core::runCalibrationJob(workspace, config);
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("kv.group_size 5 does not divide the head dimension 8"), e.what());
        }
        QVERIFY(workspace.catalog().listRuns().empty()); // refused before a run exists
    }

    void activationAndKvQuantizationChangeTheRunNotTheWeights()
    {
        core::Workspace workspace(m_dir + "/ws-wakv");
        // W8: the weights are nearly exact, so what the activation/KV bits do stands out.
        const auto w8 = core::runCalibrationJob(workspace, smallConfig("rtn", 8, 16, 16));
        const auto w8a8 = core::runCalibrationJob(workspace, smallConfig("rtn", 8, 8, 16));
        const auto w8a4 = core::runCalibrationJob(workspace, smallConfig("rtn", 8, 4, 16));
        const auto w8a4kv4 = core::runCalibrationJob(workspace, smallConfig("rtn", 8, 4, 4));
        const double fp = w8.datasets[0].fpPerplexity;
        const auto gap = [&](const core::CalibrationJobResult& r) { return std::abs(r.datasets[0].perplexity - fp); };
        qInfo("ppl: fp %.4f, W8 %.4f, W8A8 %.4f, W8A4 %.4f, W8A4KV4 %.4f", fp, w8.datasets[0].perplexity,
              w8a8.datasets[0].perplexity, w8a4.datasets[0].perplexity, w8a4kv4.datasets[0].perplexity);
        QVERIFY(gap(w8a4) > gap(w8a8));
        QVERIFY(w8a4kv4.datasets[0].perplexity != w8a4.datasets[0].perplexity);
        // RTN does not read the stream: the same weights whatever the activation bits.
        for (std::size_t i = 0; i < w8.layers.size(); ++i)
            QCOMPARE(w8a4kv4.layers[i].sqnrDb, w8.layers[i].sqnrDb);
        // The diagnostics' quantized-stream inputs are the fake-quantized ones.
        const std::string q = "model.layers.1.self_attn.q_proj";
        QVERIFY(metricOf(workspace.catalog(), w8a4.runId, q, "input_kl") >
                metricOf(workspace.catalog(), w8.runId, q, "input_kl"));

        // Export: the weights in model.safetensors, the activation/KV specs in quantization.json
        // v2; an HF loader (our eval of the directory) reproduces the weight-only perplexity.
        const std::string out = m_dir + "/exported-w8a4kv4";
        core::exportRun(workspace, w8a4kv4.runId, out);
        const auto quantization = nlohmann::json::parse(core::readTextFile(out + "/quantization.json"));
        QCOMPARE(quantization["version"].get<int>(), 4);
        QCOMPARE(quantization["bits_label"].get<std::string>(), std::string("W8A4KV4"));
        QCOMPARE(quantization["activations"]["bits"].get<int>(), 4);
        QCOMPARE(quantization["activations"]["granularity"].get<std::string>(), std::string("per_token"));
        QCOMPARE(quantization["kv_cache"]["bits"].get<int>(), 4);
        QCOMPARE(quantization["kv_cache"]["group_size"].get<int>(), 8); // 0 = the head dimension
        QCOMPARE(testsupport::perplexityOfDirectory(out, m_files.evalText, 32), w8.datasets[0].perplexity);
    }

    void gptqCalibratesOnTheQuantizedStream()
    {
        core::Workspace workspace(m_dir + "/ws-gptq");
        const auto weightOnly = core::runCalibrationJob(workspace, smallConfig("gptq", 4, 16, 16));
        const auto w4a4kv4 = core::runCalibrationJob(workspace, smallConfig("gptq", 4, 4, 4));
        QVERIFY(std::isfinite(w4a4kv4.datasets[0].perplexity));
        // Block 0 reads the embeddings either way, but its Hessians come from the inputs its
        // Linears multiply: fake-quantized at A4, so GPTQ's weights differ from block 0 on.
        QVERIFY(w4a4kv4.layers[0].sqnrDb != weightOnly.layers[0].sqnrDb);
        QVERIFY(w4a4kv4.datasets[0].perplexity != weightOnly.datasets[0].perplexity);
        QCOMPARE(workspace.catalog().run(w4a4kv4.runId).name, std::string("gptq w4g16 W4A4KV4"));
    }

    void letDiagnosticsCompareLikeWithLike()
    {
        // At W8 the quantized block is the transformed FP block up to rounding: its weights
        // and the inputs it reads must look like the FP reference's, as close as without LET.
        // Compared with the untransformed FP block (the old defect) both differ by the LET
        // scales: TV 0.32 (weights) and 0.40 (inputs) at block 0's q_proj instead of 0.08 and 0.
        core::Workspace workspace(m_dir + "/ws-let");
        core::RunConfig config = smallConfig("omniquant", 8, 16, 16);
        config.options.set("epochs", std::int64_t(1));
        const auto plain = core::runCalibrationJob(workspace, config);
        config.options.set("let", true);
        const auto let = core::runCalibrationJob(workspace, config);
        const core::DiagnosticsReader plainReader(workspace.artifactPath(plain.runId));
        const core::DiagnosticsReader letReader(workspace.artifactPath(let.runId));
        for (const char* layer : {"model.layers.0.self_attn.q_proj", "model.layers.1.mlp.up_proj"}) {
            // Without LET the histograms differ by W8 rounding only: the yardstick.
            const core::LinearDiagnostics p = plainReader.linear(layer), d = letReader.linear(layer);
            const double plainWeights = totalVariation(p.weight.fp, p.weight.quantized);
            const double weights = totalVariation(d.weight.fp, d.weight.quantized);
            const double plainInputs = totalVariation(p.input.fp, p.input.quantized);
            const double inputs = totalVariation(d.input.fp, d.input.quantized);
            qInfo("%s: histogram TV of weights %.4f (without LET %.4f), of inputs %.4f (%.4f)", layer, weights,
                  plainWeights, inputs, plainInputs);
            QVERIFY2(weights < 1.5 * plainWeights + 0.01, layer);
            QVERIFY2(inputs < 1.5 * plainInputs + 0.01, layer);
        }
    }
};

QTEST_APPLESS_MAIN(TestStreamQuantRuns)
#include "test_stream_quant_runs.moc"
