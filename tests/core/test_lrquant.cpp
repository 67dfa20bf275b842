// LRQuant (issue 18): the log-activation-equivalent initialization makes the smoothed channel
// maximum log2(2 + a) on the FP model's own inputs; shifts and scales keep the FP block's function
// (GQA included); down_proj is not smoothed; a W4A4 run trains, stores the shifts' biases, evaluates
// the stored model, and export refuses the biases a LLaMA checkpoint cannot hold.

#include "calib/channel_statistics.h"
#include "calib/equivalent_transform.h"
#include "jobs/adapt_job.h"
#include "jobs/calibrate_job.h"
#include "jobs/export_job.h"
#include "model/decoder_model.h"
#include "small_run.h"
#include "store/artifact_file.h"
#include "store/loss_curve_artifacts.h"
#include "store/run_artifacts.h"
#include "store/workspace.h"
#include "tiny_models.h"
#include "util/error.h"

#include <QtTest>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

std::map<std::string, torch::Tensor> blockStatistics(const std::map<std::string, core::ChannelStatistics>& all,
                                                     const std::string& prefix)
{
    std::map<std::string, torch::Tensor> absMax;
    for (const auto& [layer, statistics] : all)
        if (layer.rfind(prefix, 0) == 0)
            absMax[layer.substr(prefix.size())] = statistics.absMax;
    return absMax;
}

} // namespace

class TestLrQuant : public QObject {
    Q_OBJECT

private:
    std::string m_dir;
    testsupport::SmallRunFiles m_files;
    std::int64_t m_shiftedRun = 0; ///< the W4A4 run with shifts, in m_dir/ws

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("lrquant");
        m_files = testsupport::writeSmallRunFiles(m_dir, 6);
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void logInitMakesTheSmoothedMaximumLog2Of2PlusA()
    {
        const std::string dir = m_dir + "/stats-model";
        testsupport::TinyModelSpec tiny;
        tiny.weightScale = 0.6; // activations well above 1, where the log compression shows
        testsupport::writeTinyModel(dir, tiny);
        core::DecoderModel model(dir);
        torch::manual_seed(2);
        const torch::Tensor ids = torch::randint(tiny.vocab, {4, 16}, torch::kInt64);
        const core::WeightQuantSpec spec;
        const core::ForwardHooks none;
        const core::CancelToken cancel;
        core::ModelContext context(model, ids, spec, none, 2, cancel, {});
        const auto statistics = core::fpLinearInputStatistics(context);
        const std::string prefix = "model.layers.1.";
        const core::EquivalentTransform transform(
            model.config(), model.block(1), blockStatistics(statistics, prefix),
            core::EquivalentTransformInit{.scale = core::EquivalentTransformInit::Scale::LogActivation});
        QVERIFY(!transform.inputScale("mlp.down_proj").defined()); // down_proj is not smoothed

        // Run the FP stream to block 1 and observe the transformed block's Linear inputs.
        torch::NoGradGuard noGrad;
        const core::BlockWeights smoothed = transform.apply(model.block(1));
        core::AttentionContext attention(model.config(), 16, model.device());
        const torch::Tensor hidden = model.runBlock(0, model.embed(ids), attention, nullptr);
        std::map<std::string, torch::Tensor> observed;
        const core::ForwardHooks observer =
            core::observing([&](const std::string& layer, const torch::Tensor& input, const torch::Tensor&) {
                observed[layer] = std::get<0>(input.reshape({-1, input.size(-1)}).abs().max(0));
            });
        core::decoderBlock(model.config(), smoothed, hidden, attention, prefix, &observer);
        for (const std::string name : {"self_attn.q_proj", "mlp.up_proj"}) {
            const torch::Tensor a = statistics.at(prefix + name).absMax;
            QVERIFY2(torch::allclose(observed.at(prefix + name), torch::log2(2.0 + a), 1e-4, 1e-5), name.c_str());
            QVERIFY(a.max().item<double>() > 2.0); // compressed, not the identity
        }
    }

    void shiftsAndScalesKeepTheFpBlocksFunction()
    {
        const std::string dir = m_dir + "/gqa-model";
        testsupport::TinyModelSpec tiny; // 6 query heads over 2 KV heads
        testsupport::writeTinyModel(dir, tiny);
        core::DecoderModel model(dir);
        torch::manual_seed(3);
        std::map<std::string, torch::Tensor> absMax;
        for (const std::string name : {"self_attn.q_proj", "self_attn.o_proj", "mlp.up_proj"})
            absMax[name] = torch::rand({name == "self_attn.o_proj" ? tiny.hidden : tiny.hidden}) * 4 + 0.1;
        core::EquivalentTransform transform(
            model.config(), model.block(0), absMax,
            core::EquivalentTransformInit{.scale = core::EquivalentTransformInit::Scale::LogActivation,
                                          .shifts = true});
        QVERIFY(transform.hasShifts());
        QCOMPARE(transform.parameters().size(), std::size_t(7));
        {
            torch::NoGradGuard noGrad;
            for (const torch::Tensor& p : transform.parameters()) // as if trained
                p.add_(torch::randn_like(p) * 0.3).abs_().add_(0.05);
        }
        torch::NoGradGuard noGrad;
        const core::BlockWeights transformed = transform.apply(model.block(0));
        QVERIFY(transformed.optional("input_layernorm.bias").defined());
        QVERIFY(transformed.optional("mlp.up_proj.bias").defined());
        const torch::Tensor x = torch::randn({2, 12, tiny.hidden});
        core::AttentionContext attention(model.config(), 12, model.device());
        const torch::Tensor reference = core::decoderBlock(model.config(), model.block(0), x, attention, "");
        const torch::Tensor output = core::decoderBlock(model.config(), transformed, x, attention, "");
        QVERIFY2(torch::allclose(output, reference, 1e-4, 1e-5),
                 qPrintable(QString::number((output - reference).abs().max().item<double>())));
    }

    void w4a4RunTrainsStoresItsBiasesAndExportRefusesThem()
    {
        core::Workspace workspace(m_dir + "/ws");
        core::RunConfig config = testsupport::smallRunConfig(m_files, "lrquant");
        config.weights.bits = 4;
        config.weights.groupSize = -1;
        config.activations.bits = 4;
        config.options.set("epochs", std::int64_t(2));
        core::CalibrationJobResult run;
        try {
            run = core::runCalibrationJob(workspace, config);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        const double perplexity = run.datasets[0].perplexity;
        QVERIFY(std::isfinite(perplexity) && perplexity > 1.0);
        m_shiftedRun = run.runId;
        {
            const core::ArtifactFile artifacts(workspace.artifactPath(run.runId), core::ArtifactMode::ReadOnly);
            const auto folded = core::readFoldedTensors(artifacts);
            QVERIFY(folded.count("model.layers.0.input_layernorm.bias"));
            QVERIFY(folded.count("model.layers.1.mlp.gate_proj.bias"));
            const auto curve = core::readLossCurve(artifacts, "model.layers.0");
            QVERIFY(curve && curve->terms == (std::vector<std::string>{"mse", "nlc"}));
        }
        try {
            core::exportRun(workspace, run.runId, m_dir + "/exported");
            QFAIL("export must refuse the shifts' biases");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("lrquant.shifts=false"), e.what());
        }
        QVERIFY(!fs::exists(m_dir + "/exported/model.safetensors"));

        // Without shifts the run exports, and the export has the run's perplexity.
        config.options.set("shifts", false);
        const core::CalibrationJobResult plain = core::runCalibrationJob(workspace, config);
        core::exportRun(workspace, plain.runId, m_dir + "/exported-plain");
        QVERIFY(fs::exists(m_dir + "/exported-plain/model.safetensors"));
    }

    void adaptationReplacesOnlyTheLastBlockAndLeavesItsParentAlone()
    {
        core::Workspace workspace(m_dir + "/ws");
        QVERIFY(m_shiftedRun > 0);
        const auto parentMetrics = workspace.catalog().datasetMetrics(m_shiftedRun);
        const auto parentFile = [&] {
            std::ifstream in(workspace.artifactPath(m_shiftedRun), std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(in), {});
        };
        const std::string parentBytes = parentFile();

        core::AdaptJobParams params;
        params.parentRunId = m_shiftedRun;
        params.adaptation.text = m_files.evalText;
        params.adaptation.epochs = 2;
        core::AdaptJobResult adapted;
        try {
            adapted = core::runAdaptJob(workspace, params);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        const core::RunRecord record = workspace.catalog().run(adapted.runId);
        QVERIFY(record.kind == core::RunKind::TestTimeAdapted);
        QCOMPARE(record.parentRunId, m_shiftedRun);
        // The parent's model, rebuilt from its artifacts, scores what its run recorded on the text.
        double recorded = 0.0;
        for (const auto& m : parentMetrics)
            if (m.dataset == adapted.dataset && m.metric == "perplexity")
                recorded = m.value;
        QCOMPARE(adapted.parentPerplexity, recorded);
        QVERIFY(std::isfinite(adapted.perplexity) && adapted.perplexity != adapted.parentPerplexity);

        // Every block but the last is the parent's, bit for bit; the last one is new.
        {
            const core::ArtifactFile parent(workspace.artifactPath(m_shiftedRun), core::ArtifactMode::ReadOnly);
            const core::ArtifactFile child(workspace.artifactPath(adapted.runId), core::ArtifactMode::ReadOnly);
            const auto layers = core::quantizedLayerNames(parent);
            QCOMPARE(core::quantizedLayerNames(child), layers);
            for (const auto& layer : layers) {
                const bool same = torch::equal(core::readQuantizedLinear(parent, layer).dequantize(),
                                               core::readQuantizedLinear(child, layer).dequantize());
                QVERIFY2(same == (layer.rfind("model.layers.1.", 0) != 0), layer.c_str());
            }
        }
        // The parent is unchanged: its file and its numbers.
        QVERIFY(parentFile() == parentBytes);
        QCOMPARE(workspace.catalog().datasetMetrics(m_shiftedRun).size(), parentMetrics.size());

        // The authors' quirks as options: embedding-level inputs, FP activations in the block.
        params.adaptation.inputs = "embedding";
        params.adaptation.quantizedActivations = false;
        params.adaptation.epochs = 1;
        QVERIFY(std::isfinite(core::runAdaptJob(workspace, params).perplexity));

        // Refusals before anything is recorded: a TTA run, a method without LET, a short text.
        const std::int64_t rtnRun =
            core::runCalibrationJob(workspace, testsupport::smallRunConfig(m_files, "rtn")).runId;
        const std::size_t runs = workspace.catalog().listRuns().size();
        const auto refused = [&](core::AdaptJobParams p, const QString& expected) {
            try {
                core::runAdaptJob(workspace, p);
                QFAIL("adapt must refuse");
            } catch (const core::Error& e) {
                QVERIFY2(QString(e.what()).contains(expected), e.what());
            }
        };
        core::AdaptJobParams again = params;
        again.parentRunId = adapted.runId;
        refused(again, "test-time adaptation already");
        core::AdaptJobParams rtn = params;
        rtn.parentRunId = rtnRun;
        refused(rtn, "it adapts lrquant runs");
        const std::string shortText = m_dir + "/short.txt";
        std::ofstream(shortText) << "a few words";
        core::AdaptJobParams tooShort = params;
        tooShort.adaptation.text = shortText;
        refused(tooShort, "fewer than one window");
        QCOMPARE(workspace.catalog().listRuns().size(), runs);
    }
};

QTEST_GUILESS_MAIN(TestLrQuant)
#include "test_lrquant.moc"
