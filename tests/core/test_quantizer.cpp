// Weight quantizers against values computed by hand (each row's derivation is in
// the comment beside it), in the GPTQ and OmniQuant dialects of METHODS.md §1.

#include "quant/activation_quantizer.h"
#include "quant/quantized_linear.h"
#include "quant/weight_quantizer.h"
#include "util/error.h"

#include <QtTest>

#include <cmath>

Q_DECLARE_METATYPE(std::vector<float>)

namespace {

torch::Tensor row(const std::vector<float>& values)
{
    return torch::tensor(values).unsqueeze(0);
}

bool near(const torch::Tensor& a, const torch::Tensor& b, double tolerance = 1e-5)
{
    return a.sizes() == b.sizes() && (a - b).abs().max().item<double>() <= tolerance;
}

} // namespace

class TestQuantizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void handComputed_data()
    {
        QTest::addColumn<std::vector<float>>("weights");
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("groupSize");
        QTest::addColumn<bool>("symmetric");
        QTest::addColumn<int>("dialect");
        QTest::addColumn<std::vector<float>>("expected");
        using V = std::vector<float>;
        const int gptq = static_cast<int>(core::QuantDialect::Gptq);
        const int omni = static_cast<int>(core::QuantDialect::OmniQuant);
        // [-1, 3], scale 4/3, zero round(0.75) = 1; x/s = -.75 .375 1.5 2.25 → -1 0 2 2 (half to even) → +1, clamp
        // [0,3]
        QTest::newRow("gptq asym 2b") << V{-1, 0.5, 2, 3} << 2 << -1 << false << gptq
                                      << V{-4.f / 3, 0, 8.f / 3, 8.f / 3};
        // range forced to [0, 4]: scale 4/3, zero 0; x/s = .75 1.5 2.25 3 → 1 2 2 3
        QTest::newRow("gptq asym all positive")
            << V{1, 2, 3, 4} << 2 << -1 << false << gptq << V{4.f / 3, 8.f / 3, 8.f / 3, 4};
        // [-2, 4] → symmetric [-4, 4], scale 8/7, zero 4; x/s = -1.75 .875 .4375 3.5 → -2 1 0 4; +4 → 2 5 4 8→7
        QTest::newRow("gptq sym 3b") << V{-2, 1, 0.5, 4} << 3 << -1 << true << gptq
                                     << V{-16.f / 7, 8.f / 7, 0, 24.f / 7};
        // all zero: range [-1, 1], scale 2/3, zero round(1.5) = 2 → exact zeros
        QTest::newRow("gptq all zero") << V{0, 0, 0, 0} << 2 << -1 << false << gptq << V{0, 0, 0, 0};
        // groups of 2: [0,1] scale 1/3 → exact; [10,20] → [0,20] scale 20/3, 10/s = 1.5 → 2 → 40/3
        QTest::newRow("gptq groups") << V{0, 1, 10, 20} << 2 << 2 << false << gptq << V{0, 1, 40.f / 3, 20};
        // OmniQuant keeps [1, 4]: scale 1, zero round(-1) = -1 → every integer exact
        QTest::newRow("omniquant asym") << V{1, 2, 3, 4} << 2 << -1 << false << omni << V{1, 2, 3, 4};
        // OmniQuant sym 3b: scale max|x|/3 = 4/3, zero 3; x/s = -1.5 .75 .375 3 → -2 1 0 3 → within [0,7] after +3
        QTest::newRow("omniquant sym 3b") << V{-2, 1, 0.5, 4} << 3 << -1 << true << omni << V{-8.f / 3, 4.f / 3, 0, 4};
    }

    void handComputed()
    {
        QFETCH(std::vector<float>, weights);
        QFETCH(int, bits);
        QFETCH(int, groupSize);
        QFETCH(bool, symmetric);
        QFETCH(int, dialect);
        QFETCH(std::vector<float>, expected);
        const core::WeightQuantSpec spec{bits, groupSize, symmetric, static_cast<core::QuantDialect>(dialect)};
        const torch::Tensor q = core::quantizeRtn(row(weights), spec);
        QVERIFY2(near(q, row(expected)), qPrintable(QString::fromStdString(torch::str(q))));
    }

    void perChannelRowsAreIndependent()
    {
        const torch::Tensor w =
            torch::stack({torch::tensor({-1.f, 0.5f, 2.f, 3.f}), torch::tensor({0.f, 0.f, 0.f, 0.f})});
        const torch::Tensor q = core::quantizeRtn(w, {2, -1, false, core::QuantDialect::Gptq});
        QVERIFY(near(q[0], torch::tensor({-4.f / 3, 0.f, 8.f / 3, 8.f / 3})));
        QVERIFY(near(q[1], torch::zeros({4})));
    }

    void eightBitsIsNearlyLossless()
    {
        torch::manual_seed(0);
        const torch::Tensor w = torch::randn({64, 128});
        const torch::Tensor q = core::quantizeRtn(w, {8, 128, false, core::QuantDialect::Gptq});
        QVERIFY(core::weightSqnrDb(w, q) > 40.0);
        QVERIFY(core::weightSqnrDb(w, core::quantizeRtn(w, {3, 128, false, core::QuantDialect::Gptq})) < 20.0);
    }

    void straightThroughGradient()
    {
        const torch::Tensor w = row({-1, 0.5, 2, 3}).requires_grad_(true);
        const core::WeightQuantSpec spec{2, -1, false, core::QuantDialect::Gptq};
        const core::QuantGrid grid = core::fitQuantGrid(w, spec);
        const torch::Tensor q = core::fakeQuantizeSte(w, grid, spec.groupSize);
        QVERIFY(near(q.detach(), core::quantizeRtn(w.detach(), spec)));
        q.sum().backward();
        // Inside the grid the rounding passes the gradient through unchanged.
        QVERIFY(near(w.grad(), torch::ones_like(w)));
    }

    void binarization()
    {
        // α = mean |w| = (1 + 3 + 0 + 2) / 4 = 1.5; sign(0) = +1
        QVERIFY(near(core::binarize(row({1, -3, 0, 2})), row({1.5, -1.5, 1.5, 1.5})));
        // groups of 2: α = 2 and 1
        QVERIFY(near(core::binarize(row({1, -3, 0, 2}), 2), row({2, -2, 1, 1})));
    }

    void sqnrDefinition()
    {
        // Σw² = 4+16 = 20, Σ(w−ŵ)² = 0.2 → 10·log10(100) = 20 dB
        QVERIFY(std::abs(core::weightSqnrDb(row({2, 4}), row({2, 4 - std::sqrt(0.2f)})) - 20.0) < 1e-4);
    }

    void outOfRangeOptionsAreNamed_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("groupSize");
        QTest::addColumn<QString>("expected");
        QTest::newRow("0 bits") << 0 << 128 << "weights.bits";
        QTest::newRow("9 bits") << 9 << 128 << "weights.bits";
        QTest::newRow("group 0") << 4 << 0 << "weights.group_size";
        QTest::newRow("group not dividing") << 4 << 96 << "does not divide the 128 input channels";
    }

    void outOfRangeOptionsAreNamed()
    {
        QFETCH(int, bits);
        QFETCH(int, groupSize);
        QFETCH(QString, expected);
        try {
            core::quantizeRtn(torch::zeros({2, 128}), {bits, groupSize, false, core::QuantDialect::Gptq});
            QFAIL("accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains(expected), e.what());
        }
    }

    void storedFormDecodesToTheFakeQuantizedWeights_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("groupSize");
        QTest::addColumn<bool>("symmetric");
        QTest::newRow("w2 g32") << 2 << 32 << false;
        QTest::newRow("w3 per-channel") << 3 << -1 << false;
        QTest::newRow("w4 g64 sym") << 4 << 64 << true;
        QTest::newRow("w8 g128") << 8 << 128 << false;
    }

    void storedFormDecodesToTheFakeQuantizedWeights()
    {
        QFETCH(int, bits);
        QFETCH(int, groupSize);
        QFETCH(bool, symmetric);
        torch::manual_seed(11);
        torch::Tensor w = torch::randn({12, 128});
        w[3].zero_(); // an all-zero row
        const core::WeightQuantSpec spec{bits, groupSize, symmetric, core::QuantDialect::Gptq};
        const core::QuantizedLinear stored = core::quantizeRtnStored(w, spec);
        QCOMPARE(stored.codes.scalar_type(), torch::kUInt8);
        QCOMPARE(stored.groups(), groupSize > 0 ? std::int64_t(128 / groupSize) : std::int64_t(1));
        QVERIFY(stored.codes.max().item<int>() <= (1 << bits) - 1);
        QVERIFY(torch::equal(stored.dequantize(), core::quantizeRtn(w, spec))); // bit-identical
        // encodeOnGrid recovers the same codes from the dequantized weights.
        const auto again =
            core::encodeOnGrid(stored.dequantize(), stored.scale, stored.zero, stored.groupIndex, spec, "w");
        QVERIFY(torch::equal(again.codes, stored.codes));
    }

    void storedFormHandComputed()
    {
        // Row [-1, 0, 0.5, 2] at 2 bits per channel, GPTQ convention: range [-1, 2],
        // scale 3/3 = 1, zero round(1/1) = 1, codes round(w) + 1 = [0, 1, 1 or 2, 3].
        const torch::Tensor w = torch::tensor({{-1.0f, 0.0f, 0.4f, 2.0f}});
        const auto stored = core::quantizeRtnStored(w, {2, -1, false, core::QuantDialect::Gptq});
        QCOMPARE(stored.scale.item<float>(), 1.0f);
        QCOMPARE(stored.zero.item<float>(), 1.0f);
        QVERIFY(torch::equal(stored.codes, torch::tensor({{0, 1, 1, 3}}, torch::kUInt8)));
        QVERIFY(torch::equal(stored.dequantize(), torch::tensor({{-1.0f, 0.0f, 0.0f, 2.0f}})));
    }

    void weightsOffTheGridAreRejected()
    {
        const auto stored = core::quantizeRtnStored(torch::tensor({{-1.0f, 0.0f, 0.4f, 2.0f}}), {2, -1, false});
        QVERIFY_THROWS_EXCEPTION(core::Error,
                                 core::encodeOnGrid(torch::tensor({{-1.0f, 0.0f, 0.4f, 2.0f}}), stored.scale,
                                                    stored.zero, stored.groupIndex, stored.spec, "w"));
    }

    void activationsAtSixteenBitsAreUntouched()
    {
        const torch::Tensor x = torch::randn({2, 3, 8});
        const torch::Tensor same = core::fakeQuantizeActivations(x, core::ActivationQuantSpec{});
        QVERIFY(same.is_same(x));
        const torch::Tensor kv = x.view({1, 2, 3, 8});
        QVERIFY(core::fakeQuantizeKeyValues(kv, core::KvQuantSpec{}).is_same(kv));
    }

    void activationsPerTokenHandComputed()
    {
        // Token 1: range [-0.5, 3.25] = 15 · 0.25, so scale 0.25 (exact), zero round(0.5 / 0.25) = 2;
        // x / scale = [-2, 1.2, 4.5, 13] → [-2, 1, 4, 13] (4.5: half to even) → codes [0, 3, 6, 15]
        // → (code − 2) · 0.25 = [-0.5, 0.25, 1, 3.25].
        // Token 2: range [min(0, 0), 0.375], scale s = 0.375 / 15, zero 0; x / s = [0, 4, 8, 15].
        const torch::Tensor x = torch::tensor({-0.5f, 0.3f, 1.125f, 3.25f, 0.0f, 0.1f, 0.2f, 0.375f}).view({1, 2, 4});
        core::ActivationQuantSpec spec;
        spec.bits = 4;
        const float s2 = 0.375f / 15.0f;
        const torch::Tensor expected =
            torch::tensor({-0.5f, 0.25f, 1.0f, 3.25f, 0.0f, 4 * s2, 8 * s2, 15 * s2}).view({1, 2, 4});
        QVERIFY(torch::allclose(core::fakeQuantizeActivations(x, spec), expected, 1e-6, 1e-6));

        // Symmetric: max|x| = 1, scale 1/7 on codes [-8, 7]; x · 7 = [-7, 2.1, 1.4, 4.9] → [-7, 2, 1, 5].
        spec.symmetric = true;
        const torch::Tensor y = torch::tensor({-1.0f, 0.3f, 0.2f, 0.7f});
        QVERIFY(torch::allclose(core::fakeQuantizeActivations(y, spec),
                                torch::tensor({-1.0f, 2.0f / 7, 1.0f / 7, 5.0f / 7}), 1e-6, 1e-6));
        // Clip 0.5: scale 0.5/7, so -1 (code -14) saturates at code -8: -8 · 0.5/7.
        spec.clipRatio = 0.5;
        QVERIFY(std::abs(core::fakeQuantizeActivations(y, spec)[0].item<float>() + 4.0f / 7) < 1e-6);

        // Per tensor: token 2 on token 1's grid (scale 0.25, zero 2): x / 0.25 = [0, 0.4, 0.8, 1.5]
        // → [0, 0, 1, 2] → [0, 0, 0.25, 0.5].
        spec = core::ActivationQuantSpec{};
        spec.bits = 4;
        spec.granularity = core::ActivationGranularity::PerTensor;
        const torch::Tensor t = core::fakeQuantizeActivations(x, spec);
        QVERIFY(torch::allclose(t[0][1], torch::tensor({0.0f, 0.0f, 0.25f, 0.5f}), 1e-6, 1e-6));
    }

    void keyValueGroupsOfTheHeadDimAreHeads()
    {
        torch::manual_seed(3);
        const torch::Tensor kv = torch::randn({2, 3, 5, 8}); // batch, heads, tokens, head dim
        core::KvQuantSpec spec;
        spec.bits = 4;
        spec.groupSize = 8;
        const torch::Tensor perHead = core::fakeQuantizeKeyValues(kv, spec);
        spec.groupSize = 0;
        QVERIFY(torch::equal(perHead, core::fakeQuantizeKeyValues(kv, spec)));
        core::ActivationQuantSpec perToken;
        perToken.bits = 4;
        QVERIFY(torch::equal(perHead, core::fakeQuantizeActivations(kv, perToken))); // one grid per (head, token)
        spec.groupSize = 4;
        const torch::Tensor halves = core::fakeQuantizeKeyValues(kv, spec);
        QVERIFY(!torch::equal(halves, perHead));
        QVERIFY((halves - kv).abs().mean().item<double>() < (perHead - kv).abs().mean().item<double>());
        spec.groupSize = 3;
        QVERIFY_THROWS_EXCEPTION(core::Error, core::fakeQuantizeKeyValues(kv, spec));
    }

    void activationGradientIsStraightThrough()
    {
        const torch::Tensor x = torch::randn({4, 6}, torch::requires_grad());
        core::ActivationQuantSpec spec;
        spec.bits = 3;
        core::fakeQuantizeActivations(x, spec).mul(torch::arange(6)).sum().backward();
        QVERIFY(torch::equal(x.grad(), torch::arange(6).to(torch::kFloat32).expand({4, 6})));
        QCOMPARE(core::bitsLabel(4, spec, core::KvQuantSpec{}), std::string("W4A3"));
        core::KvQuantSpec kv;
        kv.bits = 4;
        QCOMPARE(core::bitsLabel(4, spec, kv), std::string("W4A3KV4"));
    }
};

QTEST_GUILESS_MAIN(TestQuantizer)
#include "test_quantizer.moc"
