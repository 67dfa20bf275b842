// TesseraQ (issue 7): soft rounding starts at the FP weight, progressive hardening leaves
// the requested fraction soft and ends with every weight on its grid, gradients reach the
// rounding and scale logits, and a short run beats its own initialization (nearest
// rounding on the same grid) on the block it calibrates.

#include "calib/block_pipeline.h"
#include "calib/tesseraq.h"
#include "model/decoder_model.h"
#include "model/weight_layout.h"
#include "quant/soft_rounding.h"
#include "tiny_models.h"

#include <QtTest>

class TestTesseraQ : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    const core::WeightQuantSpec m_spec{2, 16, false, core::QuantDialect::OmniQuant};

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("tesseraq");
        testsupport::writeTinyModel(m_dir, testsupport::TinyModelSpec{});
    }

    void softRoundingStartsAtTheWeightAndEndsOnTheGrid()
    {
        torch::manual_seed(4);
        const torch::Tensor weight = torch::randn({12, 48}) * 0.1;
        const core::QuantGrid grid = core::fitQuantGrid(weight, m_spec);
        core::SoftRounding rounding(weight, grid, m_spec);
        // The soft weight is W itself wherever the grid reaches it (the rounded zero point can
        // leave a sliver of a group's range outside the grid, clamped as in quantization).
        const torch::Tensor scale = grid.scale.repeat_interleave(16, 1), zero = grid.zero.repeat_interleave(16, 1);
        const torch::Tensor reachable = scale * (torch::clamp(weight / scale + zero, 0.0, 3.0) - zero);
        QVERIFY(torch::allclose(rounding.quantize(), reachable, 1e-5, 1e-6));
        QCOMPARE(rounding.softFraction(), 1.0);

        rounding.harden(0.25);
        QVERIFY(std::abs(rounding.softFraction() - 0.25) < 1.0 / weight.numel() + 1e-12);
        // Hardening only ever adds: a larger fraction asked for later changes nothing.
        rounding.harden(0.5);
        QVERIFY(std::abs(rounding.softFraction() - 0.25) < 1.0 / weight.numel() + 1e-12);

        rounding.hardenAll();
        QCOMPARE(rounding.softFraction(), 0.0);
        const torch::Tensor hard = rounding.quantize().detach();
        const core::QuantizedLinear stored = rounding.stored();
        QVERIFY(torch::equal(stored.dequantize(), hard));
        // Untrained, every weight rounded to the nearer grid point: RTN on this grid.
        QVERIFY(torch::allclose(hard, core::fakeQuantize(weight, grid, m_spec.groupSize), 0.0, 1e-6));
    }

    void gradientsReachRoundingAndScales()
    {
        torch::manual_seed(5);
        const torch::Tensor weight = torch::randn({8, 32});
        core::SoftRounding rounding(weight, core::fitQuantGrid(weight, m_spec), m_spec);
        const torch::Tensor x = torch::randn({10, 32});
        torch::mm(x, rounding.quantize().t()).sub(torch::mm(x, weight.t()) * 1.1).pow(2).mean().backward();
        QVERIFY(rounding.roundingLogits().grad().abs().sum().item<double>() > 0.0);
        QVERIFY(rounding.scaleLogits().grad().abs().sum().item<double>() > 0.0);
        // A hardened variable gets no gradient.
        rounding.roundingLogits().mutable_grad().zero_();
        rounding.hardenAll();
        torch::mm(x, rounding.quantize().t()).sub(torch::mm(x, weight.t())).pow(2).mean().backward();
        QCOMPARE(rounding.roundingLogits().grad().abs().sum().item<double>(), 0.0);
    }

    void shortRunBeatsItsInitialization()
    {
        const core::DecoderModel model(m_dir);
        core::DecoderModel working(m_dir); // the pipeline replaces its blocks
        const core::ModelConfig& config = model.config();
        torch::manual_seed(6);
        const torch::Tensor ids = torch::randint(0, config.vocabSize, {8, 16});
        core::TesseraQConfig options = core::TesseraQConfig::defaults();
        options.lwcEpochs = 0; // the plain min/max grid: its nearest rounding is the baseline
        options.thresholds = {0.5, 0.2, 0.05};
        options.iterations = 40;
        options.batchSize = 4;
        options.learningRate = 5e-2;
        core::TesseraQMethod method(options, {core::LossTerm{core::LossType::L2, 1.0}}, 0);
        core::PipelineOptions pipeline;
        pipeline.spec = m_spec;
        std::vector<core::BlockLossCurve> curves;
        pipeline.onBlockFinished = [&](const core::BlockOutcome& outcome) {
            curves.push_back(outcome.lossCurve);
            const std::string prefix = core::blockPrefix(config, outcome.blockIndex);
            for (const auto& [layer, stored] : outcome.stored) // every weight on its grid
                QVERIFY(
                    torch::equal(stored.dequantize(), outcome.quantized.at(layer.substr(prefix.size()) + ".weight")));
        };
        core::runBlockPipeline(working, ids, method, pipeline);
        QCOMPARE(curves.size(), std::size_t(2));
        QCOMPARE(curves[0].steps.size(), std::size_t(120));
        QCOMPARE(curves[0].stepsPerEpoch, std::int64_t(40));

        // Block 0 sees the embeddings in both streams: compare its output error directly.
        torch::NoGradGuard noGrad;
        const core::AttentionContext attention(config, 16, model.device());
        const std::string prefix = core::blockPrefix(config, 0);
        const torch::Tensor inputs = model.embed(ids);
        const torch::Tensor target = core::decoderBlock(config, model.block(0), inputs, attention, prefix);
        core::BlockWeights nearest = model.block(0);
        for (const auto& name : core::linearShortNames(config.family))
            nearest.tensors[name + ".weight"] = core::quantizeRtn(nearest.at(name + ".weight"), m_spec);
        const auto error = [&](const core::BlockWeights& block) {
            return (core::decoderBlock(config, block, inputs, attention, prefix) - target)
                .pow(2)
                .sum(-1)
                .mean()
                .item<double>();
        };
        const double trained = error(working.block(0)), initial = error(nearest);
        qInfo("block 0 l2: nearest rounding %.5g, tesseraq %.5g", initial, trained);
        QVERIFY2(trained < initial, qPrintable(QString("tesseraq %1 vs nearest %2").arg(trained).arg(initial)));
    }
};

QTEST_APPLESS_MAIN(TestTesseraQ)
#include "test_tesseraq.moc"
