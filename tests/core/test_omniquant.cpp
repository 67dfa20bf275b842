// OmniQuant's learnable weight clipping (issue 7): with the clipping fully open LWC is the
// OmniQuant-dialect RTN, its stored codes decode to exactly the trained weights, the loss
// reaches the clipping logits, training lowers a block's loss, a NaN loss names the block
// and step, and a short run on the bundled model beats RTN at W3.

#include "calib/block_pipeline.h"
#include "calib/calibration_data.h"
#include "calib/omniquant.h"
#include "eval/perplexity.h"
#include "io/tokenizer.h"
#include "jobs/resources.h"
#include "model/decoder_model.h"
#include "model/weight_layout.h"
#include "pipeline_eval.h"
#include "quant/learnable_clipping.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QtTest>

class TestOmniQuant : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("omniquant");
        testsupport::TinyModelSpec spec;
        testsupport::writeTinyModel(m_dir, spec);
    }

    void openClippingIsRoundToNearest_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<qint64>("group");
        QTest::addColumn<bool>("symmetric");
        QTest::newRow("w3 g16 asym") << 3 << qint64(16) << false;
        QTest::newRow("w2 per-channel asym") << 2 << qint64(-1) << false;
        QTest::newRow("w4 g32 sym") << 4 << qint64(32) << true;
    }

    void openClippingIsRoundToNearest()
    {
        QFETCH(int, bits);
        QFETCH(qint64, group);
        QFETCH(bool, symmetric);
        torch::manual_seed(1);
        const torch::Tensor weight = torch::randn({24, 64}) * 0.05;
        const core::WeightQuantSpec spec{bits, group, symmetric, core::QuantDialect::OmniQuant};
        // σ(30) is 1 in float32: the full range, i.e. plain RTN in the OmniQuant dialect.
        const core::LearnableClipping open(weight, spec, 30.0);
        QVERIFY(torch::equal(open.quantize(weight), core::quantizeRtn(weight, spec)));
        // The paper's initialization clips 1.8 %: a narrower grid, and its stored codes
        // decode to exactly the fake-quantized weights.
        const core::LearnableClipping initial(weight, spec);
        QVERIFY((initial.grid(weight).scale <= core::fitQuantGrid(weight, spec).scale).all().item<bool>());
        const torch::Tensor fake = initial.quantize(weight).detach();
        QVERIFY(torch::equal(initial.stored(weight).dequantize(), fake));
    }

    void lossReachesTheClippingLogits()
    {
        torch::manual_seed(2);
        const torch::Tensor weight = torch::randn({8, 32});
        core::LearnableClipping clipping(weight, {2, 16, false, core::QuantDialect::OmniQuant});
        const torch::Tensor x = torch::randn({20, 32});
        torch::mm(x, clipping.quantize(weight).t()).sub(torch::mm(x, weight.t())).pow(2).mean().backward();
        QVERIFY(clipping.upperLogits().grad().defined());
        QVERIFY(clipping.upperLogits().grad().abs().sum().item<double>() > 0.0);
        QVERIFY(clipping.lowerLogits().grad().abs().sum().item<double>() > 0.0);
    }

    void equivalentTransformKeepsTheFpBlock()
    {
        const core::DecoderModel model(m_dir);
        const core::ModelConfig& config = model.config();
        const core::BlockWeights fp = model.block(1);
        std::map<std::string, torch::Tensor> absMax;
        for (const char* name : {"self_attn.q_proj", "self_attn.o_proj", "mlp.gate_proj"})
            absMax[name] = torch::rand({fp.at(std::string(name) + ".weight").size(1)}) + 0.5;
        core::EquivalentTransform transform(config, fp, absMax);
        // Scales far from 1 and different per channel, RoPE pairs included.
        torch::manual_seed(7);
        {
            torch::NoGradGuard noGrad;
            for (torch::Tensor p : transform.parameters())
                p.copy_(torch::rand_like(p) * 3.0 + 0.2);
        }
        const core::AttentionContext attention(config, 12, model.device());
        const torch::Tensor x = torch::randn({2, 12, config.hiddenSize});
        torch::NoGradGuard noGrad;
        const std::string prefix = core::blockPrefix(config, 1);
        const torch::Tensor expected = core::decoderBlock(config, fp, x, attention, prefix);
        const core::BlockWeights transformed = transform.apply(fp);
        QVERIFY(!torch::allclose(transformed.at("self_attn.q_proj.weight"), fp.at("self_attn.q_proj.weight")));
        const torch::Tensor actual = core::decoderBlock(config, transformed, x, attention, prefix);
        const double error = ((actual - expected).norm() / expected.norm()).item<double>();
        QVERIFY2(error < 1e-5, qPrintable(QString("relative change %1").arg(error)));
    }

    void trainingLowersTheBlockLoss()
    {
        const core::DecoderModel model(m_dir);
        const core::ModelConfig& config = model.config();
        const core::AttentionContext attention(config, 16, model.device());
        torch::manual_seed(3);
        torch::Tensor inputs, targets;
        {
            torch::NoGradGuard noGrad;
            inputs = model.embed(torch::randint(0, config.vocabSize, {4, 16}));
            targets = core::decoderBlock(config, model.block(0), inputs, attention, core::blockPrefix(config, 0));
        }
        core::LwcBlockTrainer trainer(config, model.block(0), core::blockPrefix(config, 0),
                                      {2, 16, false, core::QuantDialect::OmniQuant}, 5e-2);
        const core::CompositeLoss loss({core::LossTerm{core::LossType::Mse, 1.0}}, 0);
        const double first = trainer.step(loss, inputs, targets, {}, attention, nullptr, 0, 0).terms.back();
        double last = first;
        for (int step = 1; step < 40; ++step)
            last = trainer.step(loss, inputs, targets, {}, attention, nullptr, 0, step).terms.back();
        qInfo("block loss %.5g → %.5g after 40 steps", first, last);
        QVERIFY2(last < 0.9 * first, qPrintable(QString("loss %1 → %2").arg(first).arg(last)));
        // The final weights are on their stored grids.
        const core::BlockWeights quantized = trainer.quantizedWeights();
        for (const auto& name : trainer.linearNames())
            QVERIFY(torch::equal(quantized.at(name + ".weight"), trainer.stored(name).dequantize()));

        // A NaN in the loss stops training with the block and step named.
        const torch::Tensor broken = targets.clone();
        broken.view({-1})[5] = std::numeric_limits<float>::quiet_NaN();
        try {
            trainer.step(loss, inputs, broken, {}, attention, nullptr, 0, 40);
            QFAIL("a NaN loss was accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("model.layers.0, step 41"), e.what());
        }
    }

    void shortRunBeatsRtnOnTheBundledModel()
    {
        const std::string modelDir = core::defaultModelDirectory();
        core::DecoderModel trainedModel(modelDir), rtnModel(modelDir);
        const auto tokenizer = core::loadTokenizer(modelDir);
        const auto calibration = core::encodeWithBos(
            *tokenizer, core::readTextFile(core::resourceDirectory() + "/data/brown_calibration.txt"), 1);
        const auto windows = core::drawCalibrationWindows(calibration, 8, 256, 0);
        core::PipelineOptions options;
        options.spec = {3, 128, false, core::QuantDialect::OmniQuant};
        std::vector<core::BlockLossCurve> curves;
        options.onBlockFinished = [&](const core::BlockOutcome& outcome) { curves.push_back(outcome.lossCurve); };
        core::OmniQuantConfig omniquant = core::OmniQuantConfig::defaults();
        omniquant.epochs = 4;
        core::OmniQuantMethod method(omniquant, {core::LossTerm{core::LossType::Mse, 1.0}}, 0);
        core::runBlockPipeline(trainedModel, windows.ids, method, options);
        QCOMPARE(curves.size(), std::size_t(6));
        for (const auto& curve : curves) {
            QCOMPARE(curve.stepsPerEpoch, std::int64_t(8));
            QCOMPARE(curve.steps.size(), std::size_t(32));
            QVERIFY2(curve.epochMean(-1, 1) < curve.epochMean(0, 1),
                     qPrintable(QString("loss %1 → %2").arg(curve.epochMean(0, 1)).arg(curve.epochMean(-1, 1))));
        }
        options.onBlockFinished = {};
        core::runBlockPipeline(rtnModel, windows.ids, *core::createCalibrationMethod("rtn"), options);

        const auto test =
            core::encodeWithBos(*tokenizer, core::readTextFile(core::resourceDirectory() + "/data/brown_test.txt"), 1);
        const double omniquantPpl = testsupport::perplexityOf(trainedModel, test, 40);
        const double rtnPpl = testsupport::perplexityOf(rtnModel, test, 40);
        qInfo("W3 g128, 8x256 tokens, 4 epochs: omniquant ppl %.3f, rtn ppl %.3f", omniquantPpl, rtnPpl);
        QVERIFY2(omniquantPpl < rtnPpl, qPrintable(QString("omniquant %1 vs rtn %2").arg(omniquantPpl).arg(rtnPpl)));
    }
};

QTEST_APPLESS_MAIN(TestOmniQuant)
#include "test_omniquant.moc"
