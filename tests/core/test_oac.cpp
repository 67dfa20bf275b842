// OAC's output-adaptive Hessian (issue 16 §1): Ĥ equals an independent per-window autograd
// computation, the two schedules differ exactly where they should, and GPTQ through the Hessian
// source with "xtx" is bit-identical to GPTQ on collectHessians.

#include "calib/block_pipeline.h"
#include "calib/calibration_method.h"
#include "calib/gptq.h"
#include "calib/hessian_source.h"
#include "calib/output_adaptive_hessian.h"
#include "config/method_descriptor.h"
#include "config/run_config.h"
#include "model/decoder_model.h"
#include "model/weight_layout.h"
#include "tiny_models.h"

#include <QtTest>

#include <filesystem>

namespace {

// GPTQ as it was before the Hessian source existed: collectHessians, then gptqQuantize per
// Linear. The reference for bit-identity.
class ReferenceGptq : public core::CalibrationMethod {
public:
    std::string name() const override { return "test_reference_gptq"; }
    void calibrateBlock(core::BlockCalibrationContext& ctx) override
    {
        for (const auto& group : core::sequentialLinearGroups(ctx.config.family)) {
            const auto hessians = core::collectHessians(ctx, group);
            for (const auto& shortName : group) {
                torch::Tensor& weight = ctx.weights.tensors.at(shortName + ".weight");
                core::GptqResult result = core::gptqQuantize(weight, hessians.at(shortName), ctx.spec);
                ctx.stored[ctx.layerPrefix + shortName] = std::move(result.stored);
                weight = result.quantized;
            }
        }
    }
};

// Next-token cross-entropy of one window from the model's own forward, written out here.
torch::Tensor windowCrossEntropy(const core::DecoderModel& model, const torch::Tensor& window)
{
    const torch::Tensor logits = model.forward(window).squeeze(0);
    const std::int64_t T = window.size(1);
    const torch::Tensor logProbs = torch::log_softmax(logits.narrow(0, 0, T - 1), -1);
    const torch::Tensor next = window.squeeze(0).narrow(0, 1, T - 1);
    return -logProbs.gather(1, next.unsqueeze(1)).mean();
}

std::map<std::string, torch::Tensor> pipelineStored(const std::string& modelDir, core::CalibrationMethod& method,
                                                    const torch::Tensor& ids)
{
    core::DecoderModel model(modelDir);
    core::PipelineOptions options;
    options.spec = {2, 16, false, core::QuantDialect::Gptq};
    options.batchSize = 2;
    std::map<std::string, torch::Tensor> stored;
    options.onBlockFinished = [&](const core::BlockOutcome& block) {
        for (const auto& [layer, linear] : block.stored)
            stored[layer] = linear.dequantize();
    };
    core::runBlockPipeline(model, ids, method, options);
    return stored;
}

std::unique_ptr<core::CalibrationMethod> gptqWith(const std::string& hessian, const std::string& schedule)
{
    core::RunConfig config = core::defaultRunConfig("gptq");
    config.options.set("hessian", hessian);
    config.options.set("oac_schedule", schedule);
    return core::createCalibrationMethod(config);
}

// The FP model of a test, its model context on `ids` and the embedded windows.
struct WorkingModel {
    WorkingModel(const std::string& dir, const torch::Tensor& ids)
        : model(dir), context(model, ids, spec, noHooks, 2, cancel, {})
    {
        torch::NoGradGuard noGrad;
        embedded = model.embed(ids);
    }
    core::DecoderModel model;
    const core::WeightQuantSpec spec;
    const core::ForwardHooks noHooks;
    const core::CancelToken cancel;
    core::ModelContext context;
    torch::Tensor embedded;
};

} // namespace

class TestOac : public QObject {
    Q_OBJECT
private:
    std::string m_dir, m_model;
    torch::Tensor m_ids;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("oac");
        m_model = m_dir + "/tiny";
        testsupport::TinyModelSpec spec;
        spec.layers = 3;
        testsupport::writeTinyModel(m_model, spec);
        torch::manual_seed(11);
        m_ids = torch::randint(0, spec.vocab, {4, 10});
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void hessianEqualsPerWindowAutograd()
    {
        WorkingModel working(m_model, m_ids);
        core::DecoderModel& model = working.model;
        core::ModelContext& context = working.context;
        const torch::Tensor& embedded = working.embedded;
        const auto hessians = core::outputAdaptiveHessians(context, 0, 3, embedded, m_ids, nullptr);
        QCOMPARE(static_cast<std::int64_t>(hessians.size()), 3 * 7);

        // Independently: the Linear's weight as a leaf of a model copy, one backward per window,
        // the outer products summed in float64.
        for (const auto& [block, shortName] : std::vector<std::pair<int, std::string>>{
                 {0, "self_attn.q_proj"}, {1, "mlp.down_proj"}, {2, "self_attn.v_proj"}}) {
            core::DecoderModel copy(m_model);
            core::BlockWeights weights = copy.block(block);
            torch::Tensor leaf = weights.at(shortName + ".weight").detach().clone().requires_grad_(true);
            weights.tensors[shortName + ".weight"] = leaf;
            copy.replaceBlock(block, weights);
            torch::Tensor expected = torch::zeros({leaf.size(1), leaf.size(1)}, torch::kFloat64);
            for (std::int64_t n = 0; n < m_ids.size(0); ++n) {
                const torch::Tensor G =
                    torch::autograd::grad({windowCrossEntropy(copy, m_ids.narrow(0, n, 1))}, {leaf})[0].to(
                        torch::kFloat64);
                expected += G.t().mm(G);
            }
            expected /= static_cast<double>(m_ids.size(0));
            const std::string layer = core::blockPrefix(model.config(), block) + shortName;
            const torch::Tensor got = hessians.at(layer).to(torch::kFloat64);
            const double relative = ((got - expected).norm() / expected.norm()).item<double>();
            QVERIFY2(relative < 1e-5,
                     qPrintable(QString::fromStdString(layer) + ": relative difference " + QString::number(relative)));
            QVERIFY(expected.diagonal().min().item<double>() >= 0.0);
        }
    }

    void schedulesAgreeUntilABlockIsQuantized()
    {
        WorkingModel working(m_model, m_ids);
        core::DecoderModel& model = working.model;
        core::ModelContext& context = working.context;
        const torch::Tensor& embedded = working.embedded;
        const auto oneShot = core::outputAdaptiveHessians(context, 0, 3, embedded, m_ids, nullptr);
        // Sequential block 0 sees the same model: the same Ĥ.
        const auto block0 = core::outputAdaptiveHessians(context, 0, 1, embedded, m_ids, nullptr);
        const std::string q0 = core::blockPrefix(model.config(), 0) + "self_attn.q_proj";
        QVERIFY(torch::allclose(block0.at(q0), oneShot.at(q0), 1e-6, 1e-9));
        // Block 0 quantized (RTN 2-bit): block 1's inputs and Ĥ change.
        core::BlockWeights quantized = model.block(0);
        for (const auto& name : core::linearShortNames(model.config().family))
            quantized.tensors[name + ".weight"] =
                core::quantizeRtn(quantized.at(name + ".weight"), {2, 16, false, core::QuantDialect::Gptq});
        context.replaceBlock(0, quantized, {});
        torch::Tensor inputs1;
        {
            torch::NoGradGuard noGrad;
            inputs1 = context.runBlocks(0, 1, embedded, nullptr, false);
        }
        const auto block1 = core::outputAdaptiveHessians(context, 1, 2, inputs1, m_ids, nullptr);
        const std::string q1 = core::blockPrefix(model.config(), 1) + "self_attn.q_proj";
        const double change = ((block1.at(q1) - oneShot.at(q1)).norm() / oneShot.at(q1).norm()).item<double>();
        QVERIFY2(change > 1e-3, qPrintable(QString::number(change)));
    }

    void gptqSchedulesDifferFromTheSecondBlockOn()
    {
        const auto sequential = pipelineStored(m_model, *gptqWith("oac", "sequential"), m_ids);
        const auto oneShot = pipelineStored(m_model, *gptqWith("oac", "one_shot"), m_ids);
        const auto xtx = pipelineStored(m_model, *gptqWith("xtx", "sequential"), m_ids);
        core::DecoderModel model(m_model);
        // Block 0's first group sees the same Hessian under both schedules (later groups too:
        // Ĥ is taken at the block's start), different from 2XXᵀ.
        const std::string q0 = core::blockPrefix(model.config(), 0) + "self_attn.q_proj";
        QVERIFY(torch::allclose(sequential.at(q0), oneShot.at(q0), 0.0, 1e-6));
        QVERIFY(!torch::equal(sequential.at(q0), xtx.at(q0)));
        const std::string q2 = core::blockPrefix(model.config(), 2) + "self_attn.q_proj";
        QVERIFY(!torch::allclose(sequential.at(q2), oneShot.at(q2), 0.0, 1e-6));
    }

    void gptqWithLayerWiseHessianIsBitIdenticalToPlainGptq()
    {
        ReferenceGptq reference;
        const auto expected = pipelineStored(m_model, reference, m_ids);
        const auto got = pipelineStored(m_model, *gptqWith("xtx", "sequential"), m_ids);
        QCOMPARE(got.size(), expected.size());
        for (const auto& [layer, weight] : expected)
            QVERIFY2(torch::equal(got.at(layer), weight), layer.c_str());
    }

    void blendHasUnitMeanDiagonals()
    {
        const torch::Tensor a = torch::diag(torch::tensor({2.0f, 4.0f}));
        const torch::Tensor b = torch::diag(torch::tensor({10.0f, 30.0f}));
        const torch::Tensor blended = core::blendedHessian(a, b, 0.5);
        QVERIFY(torch::allclose(blended.diagonal(), torch::tensor({2.0f / 3 + 0.25f, 4.0f / 3 + 0.75f})));
    }

    void hessianOptionsAreValidatedAndNamed()
    {
        core::RunConfig config = core::parseRunConfig(
            R"({"method": "gptq", "weights": {"bits": 2, "group_size": 16},
                "gptq": {"hessian": "oac", "oac_schedule": "one_shot"}})");
        QCOMPARE(QString::fromStdString(config.options.choice("hessian")), QString("oac"));
        QVERIFY(QString::fromStdString(core::runDisplayName(config)).contains("oac one-shot"));
        try {
            core::parseRunConfig(R"({"method": "gptq", "gptq": {"hessian": "fisher"}})");
            QFAIL("no error");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("gptq.hessian must be one of xtx | oac | blend"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestOac)
#include "test_oac.moc"
