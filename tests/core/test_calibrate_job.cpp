// The calibration job end to end on a tiny model: what it records in the
// workspace (catalog rows, config.json, artifacts), FP baseline caching, export →
// eval reproducing the run's perplexity, cancel, and bad inputs that must leave
// the catalog as it was.

#include "calib/calibration_data.h"
#include "diagnostics/diagnostics_reader.h"
#include "io/checkpoint.h"
#include "io/tensor_io.h"
#include "io/tokenizer.h"
#include "jobs/calibrate_job.h"
#include "jobs/dump_job.h"
#include "jobs/export_job.h"
#include "metrics/histogram.h"
#include "model/decoder_model.h"
#include "quant/weight_quantizer.h"
#include "small_run.h"
#include "store/loss_curve_artifacts.h"
#include "store/run_artifacts.h"
#include "store/tensor_arrays.h"
#include "tiny_model_files.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <numeric>
#include <thread>

namespace fs = std::filesystem;

class TestCalibrateJob : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    std::string m_model;
    std::string m_calibText;
    std::string m_evalText;

    core::RunConfig smallConfig(const std::string& method) const
    {
        return testsupport::smallRunConfig({m_model, m_calibText, m_evalText}, method);
    }

    std::string freshWorkspace(const std::string& tag) const { return m_dir + "/ws-" + tag; }

    // A copy of the tiny model whose tensor `name` is rewritten by `edit`.
    std::string modelWithEditedTensor(const std::string& tag, const std::string& name,
                                      const std::function<void(torch::Tensor&)>& edit) const
    {
        const std::string dir = m_dir + "/" + tag;
        fs::copy(m_model, dir, fs::copy_options::recursive);
        const core::Checkpoint checkpoint(m_model);
        std::map<std::string, torch::Tensor> tensors;
        for (const auto& n : checkpoint.names())
            tensors[n] = core::loadFloat(checkpoint, n);
        edit(tensors.at(name));
        core::writeSafetensors(dir + "/model.safetensors", tensors);
        return dir;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("calibrate-job");
        const testsupport::SmallRunFiles files = testsupport::writeSmallRunFiles(m_dir, 3);
        m_model = files.model;
        m_calibText = files.calibrationText;
        m_evalText = files.evalText;
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void finishedRunIsRecorded()
    {
        core::Workspace workspace(freshWorkspace("finished"));
        std::int64_t announced = 0;
        std::vector<std::string> stages;
        const auto result = core::runCalibrationJob(
            workspace, smallConfig("rtn"), [&](const core::ProgressEvent& e) { stages.push_back(e.stage); }, {},
            [&](std::int64_t id) { announced = id; });
        QCOMPARE(result.runId, announced);
        QCOMPARE(stages.front(), std::string("load"));
        QVERIFY(std::find(stages.begin(), stages.end(), "calibrate") != stages.end());
        QCOMPARE(stages.back(), std::string("eval"));

        const core::RunRecord run = workspace.catalog().run(result.runId);
        QCOMPARE(run.status, core::RunStatus::Finished);
        QCOMPARE(run.name, std::string("rtn w3g16"));
        QVERIFY(!run.finishedAt.empty());
        QVERIFY(run.seconds > 0);
        QCOMPARE(run.configJson, result.configJson);
        QCOMPARE(core::readTextFile(workspace.configPath(result.runId)), result.configJson + "\n");
        // The stored config is explicit: re-parsing it gives the resolved values.
        const core::RunConfig stored = core::parseRunConfig(run.configJson);
        QCOMPARE(stored.eval.seqLen, std::int64_t(32));
        QVERIFY(fs::path(stored.model).is_absolute());

        QCOMPARE(result.layers.size(), std::size_t(14));
        // Per Linear: rel_error, sqnr_db, seconds, effective_bits + 7 diagnostics scalars; per block 6.
        const auto metrics = workspace.catalog().layerMetrics(result.runId);
        QCOMPARE(metrics.size(), std::size_t(14 * (4 + 7) + 2 * 6));
        QCOMPARE(std::count_if(metrics.begin(), metrics.end(), [](const auto& m) { return m.metric == "rel_error"; }),
                 std::ptrdiff_t(14));
        QCOMPARE(result.datasets.size(), std::size_t(1));
        QCOMPARE(result.datasets[0].dataset, std::string("heldout"));
        QVERIFY(result.datasets[0].perplexity > 1.0 && result.datasets[0].fpPerplexity > 1.0);
        QVERIFY(result.datasets[0].perplexity != result.datasets[0].fpPerplexity);
        QCOMPARE(workspace.catalog().datasetMetrics(result.runId).size(), std::size_t(6));

        // Artifacts: the offsets, and codes that decode to exactly the RTN weights.
        const core::ArtifactFile artifacts(workspace.artifactPath(result.runId), core::ArtifactMode::ReadOnly);
        const core::CalibrationRecord record = core::readCalibrationRecord(artifacts);
        QCOMPARE(record.offsets, result.calibrationOffsets);
        QCOMPARE(record.offsets.size(), std::size_t(6));
        QCOMPARE(record.seqLen, std::int64_t(32));
        QCOMPARE(core::quantizedLayerNames(artifacts).size(), std::size_t(14));
        const core::DecoderModel model(m_model);
        const auto stored1 = core::readQuantizedLinear(artifacts, "model.layers.1.mlp.down_proj");
        QCOMPARE(stored1.groups(), std::int64_t(80 / 16));
        QVERIFY(torch::equal(stored1.dequantize(),
                             core::quantizeRtn(model.block(1).at("mlp.down_proj.weight"), {3, 16, false})));
    }

    void qsurCovarianceUsesTheFirstTokens()
    {
        core::Workspace workspace(freshWorkspace("qsur-tokens"));
        core::RunConfig config = smallConfig("rtn");
        config.diagnostics.qsurTokens = 50; // stops inside the first batch of 4 × 32 tokens
        const auto result = core::runCalibrationJob(workspace, config);
        const core::DiagnosticsReader reader(workspace.artifactPath(result.runId));
        const auto down = reader.linear("model.layers.1.mlp.down_proj");
        QCOMPARE(down.qsurInputFp->samples, std::int64_t(50));
        QCOMPARE(down.qsurInputQuantized->samples, std::int64_t(50));
        // Histograms still count every token.
        const std::int64_t counted = std::accumulate(down.input.fp.begin(), down.input.fp.end(), std::int64_t(0)) +
                                     down.input.fpOutside[0] + down.input.fpOutside[1] + down.input.fpOutside[2];
        QCOMPARE(counted, std::int64_t(6 * 32) * static_cast<std::int64_t>(down.channels[0].size()));
    }

    void diagnosticsAreRecorded()
    {
        core::Workspace workspace(freshWorkspace("diagnostics"));
        const auto result = core::runCalibrationJob(workspace, smallConfig("gptq"));
        const core::DiagnosticsReader reader(workspace.artifactPath(result.runId));
        QCOMPARE(reader.linearLayers().size(), std::size_t(14));
        QCOMPARE(reader.blocks(), (std::vector<std::string>{"model.layers.0", "model.layers.1"}));

        // Every calibration value is counted: 6 windows × 32 tokens × 48 channels, none
        // of the FP ones outside the edges fixed from their own range.
        const auto q = reader.linear("model.layers.1.self_attn.q_proj");
        const auto total = [](const std::vector<std::int64_t>& counts, const std::array<std::int64_t, 3>& outside) {
            return std::accumulate(counts.begin(), counts.end(), std::int64_t(0)) + outside[0] + outside[1] +
                   outside[2];
        };
        QCOMPARE(total(q.input.fp, q.input.fpOutside), std::int64_t(6 * 32 * 48));
        QCOMPARE(q.input.fpOutside[0] + q.input.fpOutside[1], std::int64_t(0));
        QCOMPARE(total(q.input.quantized, q.input.quantizedOutside), std::int64_t(6 * 32 * 48));
        QCOMPARE(q.channels[0].size(), std::size_t(48));
        QVERIFY(q.qsurInputFp && q.qsurInputFp->perDim > 0 && q.qsurInputFp->perDim <= 1);
        // Default qsur_tokens (16 384) is more than the 6 × 32 calibration tokens: all of them.
        QCOMPARE(q.qsurInputFp->samples, std::int64_t(6 * 32));
        QCOMPARE(q.qsurInputQuantized->samples, std::int64_t(6 * 32));
        QVERIFY(q.saliency.has_value());
        QCOMPARE(q.saliency->topObs.size(), std::size_t(64));
        // k and v read the same input as q.
        QCOMPARE(reader.linear("model.layers.1.self_attn.v_proj").input.fp, q.input.fp);

        // Block 0's first Linears see the embeddings in both streams: identical inputs.
        const auto metrics = workspace.catalog().layerMetrics(result.runId);
        const auto metric = [&](const std::string& layer, const std::string& name) {
            for (const auto& m : metrics)
                if (m.layer == layer && m.metric == name)
                    return m.value;
            return -1.0;
        };
        QCOMPARE(metric("model.layers.0.self_attn.q_proj", "input_kl"), 0.0);
        QVERIFY(metric("model.layers.1.self_attn.q_proj", "input_kl") > 0.0);
        QVERIFY(metric("model.layers.1.mlp.down_proj", "saliency_mean") > 0.0);

        const auto block = reader.block("model.layers.1");
        QCOMPARE(block.w1.size(), std::size_t(64));
        const double meanW1 = std::accumulate(block.w1.begin(), block.w1.end(), 0.0) / 64.0;
        QVERIFY(std::abs(meanW1 - metric("model.layers.1", "sw1")) < 1e-9);
        QVERIFY(metric("model.layers.1", "sw1") > 0.0);
        QVERIFY(metric("model.layers.1", "out_cosine") > 0.9 && metric("model.layers.1", "out_cosine") < 1.0);
        QCOMPARE(block.quantilesFp.shape, (std::vector<std::int64_t>{64, 257}));

        // Same projection seed → the same directions in another run.
        const auto again = core::runCalibrationJob(workspace, smallConfig("rtn"));
        QCOMPARE(core::DiagnosticsReader(workspace.artifactPath(again.runId)).directions().values,
                 reader.directions().values);
    }

    void dumpRecomputesTheLayerInputs()
    {
        core::Workspace workspace(freshWorkspace("dump"));
        const auto result = core::runCalibrationJob(workspace, smallConfig("gptq"));
        const std::string out = m_dir + "/dump.h5";
        const auto dumped = core::dumpLayerInputs(workspace, result.runId, "model.layers.1.self_attn.o_proj", out);
        QCOMPARE(dumped.tokens, std::int64_t(6 * 32));
        QCOMPARE(dumped.channels, std::int64_t(48));
        const core::ArtifactFile file(out, core::ArtifactMode::ReadOnly);
        const torch::Tensor fp = core::tensorFrom(file.readFloat("/fp"));
        const torch::Tensor quantized = core::tensorFrom(file.readFloat("/quantized"));
        QCOMPARE(file.readInt64("/offsets").values, result.calibrationOffsets);

        // The FP inputs are what a plain forward pass of the FP model over the run's windows feeds o_proj.
        const core::DecoderModel model(m_model);
        const auto tokens = core::encodeWithBos(*core::loadTokenizer(m_model), core::readTextFile(m_calibText),
                                                model.config().bosTokenId);
        const auto windows = core::drawCalibrationWindows(tokens, 6, 32, 0);
        std::vector<torch::Tensor> seen;
        const core::ForwardHooks observer =
            core::observing([&](const std::string& name, const torch::Tensor& input, const torch::Tensor&) {
                if (name == "model.layers.1.self_attn.o_proj")
                    seen.push_back(input.reshape({-1, input.size(-1)}));
            });
        model.forward(windows.ids, &observer);
        QVERIFY(torch::allclose(fp, torch::cat(seen, 0), 1e-5, 1e-5));
        QVERIFY(!torch::allclose(fp, quantized, 1e-3, 1e-3)); // block 0 was quantized before it

        // The histogram recorded during the run counted exactly these quantized inputs.
        const core::DiagnosticsReader reader(workspace.artifactPath(result.runId));
        const auto recorded = reader.linear("model.layers.1.self_attn.o_proj").input;
        core::HistogramAccumulator recount({recorded.lo, recorded.hi, static_cast<std::int64_t>(recorded.fp.size())});
        recount.add(quantized);
        QCOMPARE(recount.histogram().counts, recorded.quantized);

        QVERIFY_THROWS_EXCEPTION(
            core::Error, core::dumpLayerInputs(workspace, result.runId, "model.layers.1.mlp", m_dir + "/never.h5"));
    }

    void damagedArtifactsFailOnlyTheirReader()
    {
        core::Workspace workspace(freshWorkspace("damaged"));
        core::RunConfig config = smallConfig("rtn");
        config.diagnostics.enabled = false;
        const auto plain = core::runCalibrationJob(workspace, config);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::DiagnosticsReader(workspace.artifactPath(plain.runId)));
        const auto recorded = core::runCalibrationJob(workspace, smallConfig("rtn"));
        const std::string path = workspace.artifactPath(recorded.runId);
        fs::resize_file(path, fs::file_size(path) / 2);
        try {
            core::DiagnosticsReader reader(path);
            reader.linear("model.layers.1.mlp.down_proj");
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("artifacts.h5"), e.what());
        }
        QCOMPARE(workspace.catalog().listRuns().size(), std::size_t(2));
    }

    void fpBaselineIsReused()
    {
        core::Workspace workspace(freshWorkspace("cache"));
        const auto first = core::runCalibrationJob(workspace, smallConfig("rtn"));
        core::RunConfig config = smallConfig("rtn");
        config.weights.bits = 8;
        const auto second = core::runCalibrationJob(workspace, config);
        QVERIFY(!first.datasets[0].fpFromCache);
        QVERIFY(second.datasets[0].fpFromCache);
        QCOMPARE(second.datasets[0].fpPerplexity, first.datasets[0].fpPerplexity);
        // 8 bits is nearly lossless, so that run lands near the cached FP value (this
        // random model's ppl moves 2.5 % at 3 bits, 0.15 % at 8).
        QVERIFY(std::abs(second.datasets[0].perplexity / second.datasets[0].fpPerplexity - 1.0) < 1e-2);
    }

    void exportReproducesThePerplexity()
    {
        core::Workspace workspace(freshWorkspace("export"));
        core::RunConfig config = smallConfig("gptq");
        config.options.set("act_order", true);
        const auto result = core::runCalibrationJob(workspace, config);
        const std::string out = m_dir + "/exported";
        const auto exported = core::exportRun(workspace, result.runId, out);
        QCOMPARE(exported.quantizedLayers, std::int64_t(14));
        for (const char* file : {"config.json", "model.safetensors", "quantization.json", "vocab.json", "merges.txt"})
            QVERIFY2(fs::exists(fs::path(out) / file), file);

        QCOMPARE(testsupport::perplexityOfDirectory(out, m_evalText, 32), result.datasets[0].perplexity);

        const auto quantization = nlohmann::json::parse(core::readTextFile(out + "/quantization.json"));
        QCOMPARE(quantization["bits"].get<int>(), 3);
        QCOMPARE(quantization["layers"].size(), std::size_t(14));
        const auto& layer = quantization["layers"]["model.layers.0.self_attn.q_proj"];
        QCOMPARE(layer["scale"].size(), std::size_t(48));   // rows
        QCOMPARE(layer["scale"][0].size(), std::size_t(3)); // 48 columns / 16
        QVERIFY(layer.contains("group_index"));             // act-order scatters the groups

        // Export never overwrites, and refuses a model that changed since the run.
        QVERIFY_THROWS_EXCEPTION(core::Error, core::exportRun(workspace, result.runId, out));
        QVERIFY(fs::exists(out + "/model.safetensors"));
    }

    void omniquantWithLetRecordsAndExportsItsFoldedModel()
    {
        core::Workspace workspace(freshWorkspace("omniquant-let"));
        core::RunConfig config = smallConfig("omniquant");
        config.options.set("epochs", std::int64_t(2));
        config.options.set("batch_size", std::int64_t(2));
        config.options.set("let", true);
        config.loss = {core::LossTerm{core::LossType::Mse, 0.9},
                       core::LossTerm{core::LossType::SlicedWasserstein, 0.1, 16, 1}};
        const auto result = core::runCalibrationJob(workspace, config);

        // Loss curves: 2 epochs of 3 steps per block, each step mse, sw, total.
        const core::ArtifactFile artifacts(workspace.artifactPath(result.runId), core::ArtifactMode::ReadOnly);
        const auto curve = core::readLossCurve(artifacts, "model.layers.1");
        QVERIFY(curve.has_value());
        QCOMPARE(curve->terms, (std::vector<std::string>{"mse", "sw"}));
        QCOMPARE(curve->steps.size(), std::size_t(6));
        QCOMPARE(curve->steps[0].size(), std::size_t(3));
        QVERIFY(std::abs(curve->steps[0][2] - (0.9 * curve->steps[0][0] + 0.1 * curve->steps[0][1])) < 1e-4);
        const auto metrics = workspace.catalog().layerMetrics(result.runId);
        QVERIFY(std::any_of(metrics.begin(), metrics.end(), [](const core::LayerMetric& m) {
            return m.layer == "model.layers.1" && m.metric == "loss_last_epoch_sw";
        }));
        // LET changed the norms: they are stored, and the exported model carries them.
        const auto folded = core::readFoldedTensors(artifacts);
        QVERIFY(folded.count("model.layers.0.input_layernorm.weight"));
        QVERIFY(folded.count("model.layers.1.post_attention_layernorm.weight"));
        const std::string out = m_dir + "/exported-let";
        core::exportRun(workspace, result.runId, out);
        QCOMPARE(testsupport::perplexityOfDirectory(out, m_evalText, 32), result.datasets[0].perplexity);
    }

    void exportRefusesAChangedModel()
    {
        const std::string model = m_dir + "/changing";
        fs::copy(m_model, model, fs::copy_options::recursive);
        core::Workspace workspace(freshWorkspace("changed"));
        core::RunConfig config = smallConfig("rtn");
        config.model = model;
        const auto result = core::runCalibrationJob(workspace, config);
        auto json = nlohmann::json::parse(core::readTextFile(model + "/config.json"));
        json["rms_norm_eps"] = 1e-3;
        core::writeFileAtomically(model + "/config.json", json.dump());
        try {
            core::exportRun(workspace, result.runId, m_dir + "/never");
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("changed since run"), e.what());
        }
        QVERIFY(!fs::exists(m_dir + "/never"));
    }

    void cancelLeavesTheRunCancelled()
    {
        core::Workspace workspace(freshWorkspace("cancel"));
        core::CancelToken cancel;
        std::int64_t runId = 0;
        const auto progress = [&](const core::ProgressEvent& e) {
            if (e.stage == "calibrate" && e.message.find("block 1/2 done") != std::string::npos)
                cancel.requestCancel();
        };
        QVERIFY_THROWS_EXCEPTION(core::Cancelled,
                                 core::runCalibrationJob(workspace, smallConfig("gptq"), progress, cancel,
                                                         [&](std::int64_t id) { runId = id; }));
        const core::RunRecord run = workspace.catalog().run(runId);
        QCOMPARE(run.status, core::RunStatus::Cancelled);
        QVERIFY(!run.finishedAt.empty());
        // Block 0 finished before the cancel and stays recorded; block 1 never ran.
        const auto layers = workspace.catalog().layerMetrics(runId);
        QCOMPARE(layers.size(), std::size_t(7 * (4 + 7) + 6));
        for (const auto& m : layers)
            QCOMPARE(m.block, std::int64_t(0));
        QVERIFY(workspace.catalog().datasetMetrics(runId).empty());
        QVERIFY_THROWS_EXCEPTION(core::Error, core::exportRun(workspace, runId, m_dir + "/cancelled-export"));
    }

    void badInputsRecordNothing_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing model") << "model"
                                       << "no-such-model";
        QTest::newRow("group size") << "group"
                                    << "weights.group_size 32 does not divide the 48 input channels of "
                                       "model.layers.0.self_attn.q_proj and every other block's (group sizes that "
                                       "do: 1, 2, 3, 4, 6, 8, 12, 16, 24, 48;";
        QTest::newRow("context") << "seqlen"
                                 << "exceeds the model's context";
        QTest::newRow("missing eval text") << "evaltext"
                                           << "missing.txt";
        QTest::newRow("missing calibration text") << "calibtext"
                                                  << "nope.txt";
        QTest::newRow("truncated weights") << "truncated"
                                           << "model.safetensors";
        QTest::newRow("missing tokenizer") << "tokenizer"
                                           << "tokenizer";
    }

    void badInputsRecordNothing()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        const std::string tag = what.toStdString();
        core::Workspace workspace(freshWorkspace("bad-" + tag));
        core::runCalibrationJob(workspace, smallConfig("rtn")); // something already stored
        core::RunConfig config = smallConfig("rtn");
        if (what == "model") {
            config.model = m_dir + "/no-such-model";
        } else if (what == "group") {
            config.weights.groupSize = 32;
        } else if (what == "seqlen") {
            config.calibration.seqLen = 65;
        } else if (what == "evaltext") {
            config.eval.texts = {m_dir + "/missing.txt"};
        } else if (what == "calibtext") {
            config.calibration.text = m_dir + "/nope.txt";
        } else {
            const std::string copy = m_dir + "/broken-" + tag;
            fs::copy(m_model, copy, fs::copy_options::recursive);
            if (what == "truncated")
                fs::resize_file(copy + "/model.safetensors", fs::file_size(copy + "/model.safetensors") / 2);
            else
                fs::remove(copy + "/vocab.json");
            config.model = copy;
        }
        try {
            core::runCalibrationJob(workspace, config);
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains(expected), e.what());
        }
        const auto runs = workspace.catalog().listRuns();
        QCOMPARE(runs.size(), std::size_t(1));
        QCOMPARE(runs[0].status, core::RunStatus::Finished);
    }

    void nanWeightsFailTheRunNamingTheTensor()
    {
        const std::string model = modelWithEditedTensor("nan-model", "model.layers.1.self_attn.v_proj.weight",
                                                        [](torch::Tensor& t) { t[0][0] = NAN; });
        core::Workspace workspace(freshWorkspace("nan"));
        core::RunConfig config = smallConfig("gptq");
        config.model = model;
        std::int64_t runId = 0;
        try {
            core::runCalibrationJob(workspace, config, {}, {}, [&](std::int64_t id) { runId = id; });
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("failed") && QString(e.what()).contains("v_proj"), e.what());
        }
        const core::RunRecord run = workspace.catalog().run(runId);
        QCOMPARE(run.status, core::RunStatus::Failed);
        QVERIFY2(run.errorMessage.find("NaN") != std::string::npos, run.errorMessage.c_str());
    }

    void readerSeesConsistentCatalogWhileARunWrites()
    {
        const std::string dir = freshWorkspace("reader");
        core::Workspace workspace(dir);
        std::atomic<bool> done{false};
        std::atomic<int> reads{0};
        std::string readerError;
        std::thread reader([&] {
            try {
                const core::Workspace view(dir, core::OpenMode::ReadOnly);
                while (!done) {
                    for (const auto& run : view.catalog().listRuns())
                        view.catalog().layerMetrics(run.id);
                    ++reads;
                }
            } catch (const std::exception& e) {
                readerError = e.what();
            }
        });
        core::runCalibrationJob(workspace, smallConfig("gptq"));
        done = true;
        reader.join();
        QVERIFY2(readerError.empty(), readerError.c_str());
        QVERIFY(reads > 0);
    }
};

QTEST_GUILESS_MAIN(TestCalibrateJob)
#include "test_calibrate_job.moc"
