// The model context of the method lifecycle (issue 15 §2): gradients of the model's output
// cross-entropy through the working model, and a method with model-level stages defined in
// this file alone (a plug-in) running through the run config, the job, the store and export.

#include "calib/calibration_method.h"
#include "calib/model_context.h"
#include "config/method_descriptor.h"
#include "config/method_listing.h"
#include "config/run_config.h"
#include "jobs/calibrate_job.h"
#include "jobs/export_job.h"
#include "model/weight_layout.h"
#include "quant/quantized_linear.h"
#include "small_run.h"
#include "store/run_artifacts.h"
#include "store/workspace.h"
#include "tiny_model_files.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QtTest>

#include <filesystem>

namespace fs = std::filesystem;

namespace {

// A method with both model-level stages: prepareModel scales the final norm (a global weight)
// by `norm_scale`, calibrateBlock is RTN, finishModel counts the blocks it sees quantized.
class NormScaleRtn : public core::CalibrationMethod {
public:
    explicit NormScaleRtn(double scale) : m_scale(scale) {}
    std::string name() const override { return "test_norm_scale"; }
    void prepareModel(core::ModelContext& model) override
    {
        core::GlobalWeights globals = model.model().globals();
        globals.finalNormWeight = globals.finalNormWeight * m_scale;
        model.replaceGlobals(globals);
    }
    void calibrateBlock(core::BlockCalibrationContext& ctx) override
    {
        QVERIFY(ctx.model != nullptr);
        for (const auto& name : core::linearShortNames(ctx.config.family)) {
            torch::Tensor& weight = ctx.weights.tensors.at(name + ".weight");
            core::QuantizedLinear stored = core::quantizeRtnStored(weight, ctx.spec);
            weight = stored.dequantize();
            ctx.stored[ctx.layerPrefix + name] = std::move(stored);
        }
    }
    void finishModel(core::ModelContext& model) override
    {
        // Every block of the working model is the calibrated one by now.
        for (std::int64_t i = 0; i < model.config().numLayers; ++i)
            QVERIFY(!torch::equal(model.model().block(i).at("mlp.up_proj.weight"),
                                  core::DecoderModel(model.model().directory()).block(i).at("mlp.up_proj.weight")));
        ++finishedRuns;
    }
    static inline int finishedRuns = 0;

private:
    double m_scale;
};

core::MethodDescriptor normScaleDescriptor()
{
    core::MethodDescriptor method;
    method.name = "test_norm_scale";
    method.description = "RTN after scaling the final norm (a test's plug-in method)";
    method.reference = "tests/core/test_model_context.cpp";
    method.capabilities.modelStage = true;
    core::OptionSpec scale;
    scale.key = "norm_scale";
    scale.type = core::OptionType::Number;
    scale.defaultValue = 1.0;
    scale.minimum = 0.5;
    scale.maximum = 2.0;
    scale.help = "Factor of the final norm's weight";
    method.options = {scale};
    method.create = [](const core::RunConfig& config) {
        return std::make_unique<NormScaleRtn>(config.options.number("norm_scale"));
    };
    return method;
}

} // namespace

class TestModelContext : public QObject {
    Q_OBJECT
private:
    std::string m_dir, m_model, m_text;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("model-context");
        m_model = m_dir + "/tiny";
        testsupport::writeTinyLlamaWithTokenizer(m_model, 5);
        m_text = m_dir + "/text.txt";
        core::writeFileAtomically(m_text, testsupport::sampleEnglishText());
        core::registerMethodDescriptor(normScaleDescriptor());
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void outputGradientMatchesFiniteDifferences()
    {
        // The working model in float64, so central differences are exact to ~1e-9.
        core::DecoderModel model(m_model);
        torch::manual_seed(3);
        const torch::Tensor ids = torch::randint(0, model.config().vocabSize, {2, 12});
        const core::WeightQuantSpec spec;
        const core::ForwardHooks noHooks;
        const core::CancelToken cancel;
        core::ModelContext context(model, ids, spec, noHooks, 2, cancel, {});
        core::GlobalWeights globals = model.globals();
        for (torch::Tensor* t : {&globals.embedTokens, &globals.finalNormWeight, &globals.lmHead})
            *t = t->to(torch::kFloat64);
        context.replaceGlobals(globals);
        for (std::int64_t i = 0; i < model.numBlocks(); ++i) {
            core::BlockWeights block = model.block(i);
            for (auto& [name, tensor] : block.tensors)
                tensor = tensor.to(torch::kFloat64);
            context.replaceBlock(i, block, {});
        }
        const auto loss = [&] {
            const torch::Tensor hidden = context.runBlocks(0, model.numBlocks(), model.embed(ids), nullptr, true);
            return context.outputCrossEntropy(hidden, ids);
        };
        core::BlockWeights block0 = model.block(0);
        torch::Tensor weight = block0.at("self_attn.q_proj.weight").clone().requires_grad_(true);
        block0.tensors["self_attn.q_proj.weight"] = weight;
        context.replaceBlock(0, block0, {});
        loss().backward();
        const torch::Tensor gradient = weight.grad().clone();
        QVERIFY(gradient.abs().max().item<double>() > 0.0);

        torch::NoGradGuard noGrad;
        const double h = 1e-5;
        for (const auto& [row, column] : std::vector<std::pair<int, int>>{{0, 0}, {3, 7}, {17, 40}, {47, 47}}) {
            const double original = weight[row][column].item<double>();
            weight[row][column] = original + h;
            const double up = loss().item<double>();
            weight[row][column] = original - h;
            const double down = loss().item<double>();
            weight[row][column] = original;
            const double numeric = (up - down) / (2 * h);
            const double analytic = gradient[row][column].item<double>();
            QVERIFY2(std::abs(numeric - analytic) <= 1e-6 * std::max(1.0, std::abs(numeric)),
                     qPrintable(QString("q_proj[%1, %2]: autograd %3, finite difference %4")
                                    .arg(row)
                                    .arg(column)
                                    .arg(analytic, 0, 'g', 12)
                                    .arg(numeric, 0, 'g', 12)));
        }
    }

    void aPluginMethodIsListedParsedAndRun()
    {
        // Listed and parsed from its descriptor alone.
        QVERIFY(QString::fromStdString(core::methodsText()).contains("test_norm_scale"));
        QVERIFY(QString::fromStdString(core::methodsJson()).contains("\"norm_scale\""));
        const core::RunConfig parsed =
            core::parseRunConfig(R"({"method": "test_norm_scale", "test_norm_scale": {"norm_scale": 1.5}})");
        QCOMPARE(parsed.options.number("norm_scale"), 1.5);
        try {
            core::parseRunConfig(R"({"method": "test_norm_scale", "test_norm_scale": {"norm_scale": 3}})");
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("test_norm_scale.norm_scale"), e.what());
        }

        // Run: the global weight it replaced is stored with the run, eval used it, and the
        // export carries it (its perplexity is the run's).
        core::Workspace workspace(m_dir + "/ws");
        core::RunConfig config = core::defaultRunConfig("test_norm_scale");
        config.model = m_model;
        config.options.set("norm_scale", 1.75);
        config.weights.bits = 8;
        config.weights.groupSize = 16;
        config.calibration.text = m_text;
        config.calibration.samples = 2;
        config.calibration.seqLen = 16;
        config.eval.texts = {m_text};
        config.eval.seqLen = 16;
        config.diagnostics.enabled = false;
        const int finishedBefore = NormScaleRtn::finishedRuns;
        const auto result = core::runCalibrationJob(workspace, config);
        QCOMPARE(NormScaleRtn::finishedRuns, finishedBefore + 1);
        const core::ArtifactFile artifacts(workspace.artifactPath(result.runId), core::ArtifactMode::ReadOnly);
        const auto folded = core::readFoldedTensors(artifacts);
        QVERIFY(folded.count("model.norm.weight"));
        const core::DecoderModel original(m_model);
        QVERIFY(torch::allclose(folded.at("model.norm.weight"), original.globals().finalNormWeight * 1.75));
        const std::string out = m_dir + "/exported";
        core::exportRun(workspace, result.runId, out);
        QCOMPARE(testsupport::perplexityOfDirectory(out, m_text, 16), result.datasets[0].perplexity);
    }
};

QTEST_APPLESS_MAIN(TestModelContext)
#include "test_model_context.moc"
