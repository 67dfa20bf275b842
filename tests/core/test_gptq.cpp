// GPTQ against an independent naive implementation (explicit inverse Hessian with
// OBS downdates instead of the Cholesky form; the two are algebraically equal, see
// Frantar et al. 2023 §4 "Step 3: Cholesky Reformulation"), plus the properties
// that make it worth running: exact RTN on uncorrelated inputs, lower output
// error than RTN on correlated ones, dead columns, act-order.

#include "calib/calibration_data.h"
#include "calib/gptq.h"
#include "calib/hessian.h"
#include "quant/weight_quantizer.h"

#include "util/error.h"

#include <QtTest>

#include <numeric>

namespace {

// Per-channel GPTQ, one column at a time, in float64 with the full inverse.
torch::Tensor naiveGptq(torch::Tensor W, torch::Tensor H, const core::WeightQuantSpec& spec, double percentDamp)
{
    W = W.to(torch::kFloat64).clone();
    H = H.to(torch::kFloat64).clone();
    const core::QuantGrid grid = core::fitColumnGrid(W.to(torch::kFloat32), spec);
    const torch::Tensor scale = grid.scale.to(torch::kFloat64), zero = grid.zero.to(torch::kFloat64);
    H.diagonal().add_(percentDamp * H.diagonal().mean().item<double>());
    torch::Tensor Hinv = torch::inverse(H);
    torch::Tensor Q = torch::zeros_like(W);
    for (std::int64_t j = 0; j < W.size(1); ++j) {
        const torch::Tensor w = W.select(1, j).clone();
        const torch::Tensor q =
            scale.squeeze(1) * (torch::clamp(torch::round(w / scale.squeeze(1)) + zero.squeeze(1), 0, grid.maxq) - zero.squeeze(1));
        Q.select(1, j).copy_(q);
        const double d = Hinv[j][j].item<double>();
        W -= torch::outer((w - q) / d, Hinv[j]); // OBS update of the remaining weights
        Hinv -= torch::outer(Hinv.select(1, j), Hinv[j]) / d; // remove column j from the inverse
    }
    return Q.to(torch::kFloat32);
}

torch::Tensor correlatedInputs(std::int64_t tokens, std::int64_t columns)
{
    const torch::Tensor latent = torch::randn({tokens, columns / 4});
    const torch::Tensor mix = torch::randn({columns / 4, columns});
    return torch::matmul(latent, mix) + 0.1 * torch::randn({tokens, columns});
}

} // namespace

class TestGptq : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hessianIsTwoXtXOverN()
    {
        torch::manual_seed(1);
        const torch::Tensor x = torch::randn({3, 10, 6});
        core::HessianAccumulator accumulator(6);
        accumulator.add(x.narrow(0, 0, 1));
        accumulator.add(x.narrow(0, 1, 2));
        const torch::Tensor flat = x.reshape({-1, 6});
        QCOMPARE(accumulator.tokens(), std::int64_t(30));
        QVERIFY(torch::allclose(accumulator.hessian(), 2.0 * torch::matmul(flat.t(), flat) / 30.0, 1e-5, 1e-5));
    }

    void calibrationWindowsAreSeededAndRecorded()
    {
        std::vector<std::int64_t> tokens(1000);
        std::iota(tokens.begin(), tokens.end(), 0);
        const auto a = core::drawCalibrationWindows(tokens, 8, 64, 42);
        const auto b = core::drawCalibrationWindows(tokens, 8, 64, 42);
        const auto c = core::drawCalibrationWindows(tokens, 8, 64, 43);
        QCOMPARE(a.offsets, b.offsets);
        QVERIFY(a.offsets != c.offsets);
        QCOMPARE(a.ids.sizes().vec(), (std::vector<std::int64_t>{8, 64}));
        for (std::size_t s = 0; s < a.offsets.size(); ++s) {
            QVERIFY(a.offsets[s] >= 0 && a.offsets[s] <= 1000 - 64 - 1);
            // tokens are their own positions, so each window must start at its recorded offset
            QCOMPARE(a.ids[static_cast<std::int64_t>(s)][0].item<std::int64_t>(), a.offsets[s]);
            QCOMPARE(a.ids[static_cast<std::int64_t>(s)][63].item<std::int64_t>(), a.offsets[s] + 63);
        }
        QVERIFY_THROWS_EXCEPTION(core::Error, core::drawCalibrationWindows(tokens, 8, 1000, 1));
    }

    void matchesNaiveImplementation_data()
    {
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("blockSize");
        QTest::newRow("3 bit, one block") << 3 << 128;
        QTest::newRow("2 bit, blocks of 8") << 2 << 8;
        QTest::newRow("4 bit, blocks of 5") << 4 << 5;
    }

    void matchesNaiveImplementation()
    {
        QFETCH(int, bits);
        QFETCH(int, blockSize);
        torch::manual_seed(2);
        const torch::Tensor W = torch::randn({12, 32});
        const torch::Tensor X = correlatedInputs(256, 32);
        const torch::Tensor H = 2.0 * torch::matmul(X.t(), X) / 256.0;
        const core::WeightQuantSpec spec{bits, -1, false, core::QuantDialect::Gptq};
        core::GptqOptions options;
        options.blockSize = blockSize;
        const torch::Tensor fast = core::gptqQuantize(W, H, spec, options).quantized;
        const torch::Tensor naive = naiveGptq(W, H, spec, options.percentDamp);
        // Identical grids: every element equal, or (rarely) one rounding step apart where
        // float32 and float64 land on either side of a rounding boundary.
        const double mismatch = (fast - naive).abs().gt(1e-4).to(torch::kFloat64).mean().item<double>();
        QVERIFY2(mismatch < 0.01, qPrintable(QString("%1 of elements differ").arg(mismatch)));
    }

    void uncorrelatedInputsGiveRtn()
    {
        // Diagonal H ⇒ H⁻¹ has no off-diagonal terms ⇒ no error feedback ⇒ GPTQ = RTN.
        torch::manual_seed(3);
        const torch::Tensor W = torch::randn({8, 64});
        const torch::Tensor H = torch::diag(torch::rand({64}) + 0.5);
        const core::WeightQuantSpec spec{3, 16, false, core::QuantDialect::Gptq};
        QVERIFY(torch::allclose(core::gptqQuantize(W, H, spec).quantized, core::quantizeRtn(W, spec), 1e-6, 1e-6));
    }

    void beatsRtnOnCorrelatedInputs()
    {
        torch::manual_seed(4);
        const torch::Tensor W = torch::randn({64, 128});
        const torch::Tensor X = correlatedInputs(2048, 128);
        core::HessianAccumulator accumulator(128);
        accumulator.add(X);
        const torch::Tensor H = accumulator.hessian();
        for (int bits : {2, 3, 4}) {
            const core::WeightQuantSpec spec{bits, 32, false, core::QuantDialect::Gptq};
            const double gptq = core::relativeReconstructionError(W, core::gptqQuantize(W, H, spec).quantized, H);
            const double rtn = core::relativeReconstructionError(W, core::quantizeRtn(W, spec), H);
            QVERIFY2(gptq < 0.7 * rtn, qPrintable(QString("%1 bits: gptq %2 vs rtn %3").arg(bits).arg(gptq).arg(rtn)));
        }
    }

    void reconstructionErrorIsTheOutputError()
    {
        torch::manual_seed(5);
        const torch::Tensor W = torch::randn({16, 24});
        const torch::Tensor Wq = core::quantizeRtn(W, {3, -1, false, core::QuantDialect::Gptq});
        const torch::Tensor X = torch::randn({100, 24});
        const double direct = (torch::matmul(X, (W - Wq).t())).pow(2).sum().item<double>() /
                              torch::matmul(X, W.t()).pow(2).sum().item<double>();
        const torch::Tensor H = 2.0 * torch::matmul(X.t(), X) / 100.0;
        QVERIFY(std::abs(core::relativeReconstructionError(W, Wq, H) - direct) < 1e-6);
    }

    void deadColumnsAreZeroed()
    {
        torch::manual_seed(6);
        const torch::Tensor W = torch::randn({8, 16});
        torch::Tensor X = torch::randn({64, 16});
        X.select(1, 5).zero_();
        const torch::Tensor H = 2.0 * torch::matmul(X.t(), X) / 64.0;
        const auto result = core::gptqQuantize(W, H, {4, -1, false, core::QuantDialect::Gptq});
        QVERIFY(result.quantized.select(1, 5).abs().max().item<float>() == 0.0f);
        QVERIFY(std::isfinite(result.totalLoss));
    }

    void actOrderIsGptqOnPermutedColumns()
    {
        // Act-order = plain GPTQ on columns sorted by decreasing diag(H), mapped back.
        torch::manual_seed(7);
        const torch::Tensor W = torch::randn({8, 16});
        const torch::Tensor X = correlatedInputs(256, 16) * torch::rand({16});
        const torch::Tensor H = 2.0 * torch::matmul(X.t(), X) / 256.0;
        const core::WeightQuantSpec spec{3, -1, false, core::QuantDialect::Gptq};
        core::GptqOptions actOrder;
        actOrder.actOrder = true;
        const torch::Tensor order = torch::argsort(H.diagonal(), 0, true);
        QVERIFY(!torch::equal(order, torch::arange(16))); // the test must actually permute
        const torch::Tensor permuted =
            core::gptqQuantize(W.index_select(1, order), H.index_select(0, order).index_select(1, order), spec).quantized;
        QVERIFY(torch::allclose(core::gptqQuantize(W, H, spec, actOrder).quantized,
                                permuted.index_select(1, torch::argsort(order)), 1e-5, 1e-5));
    }

    void storedFormHasTheGridOfEachGroup()
    {
        // With groups, GPTQ fits a grid at each group start; the stored codes + grids
        // must decode to exactly the weights GPTQ returned, and with act-order the
        // group of column c is (position of c in the order) / group size.
        torch::manual_seed(8);
        const torch::Tensor W = torch::randn({8, 32});
        const torch::Tensor X = correlatedInputs(256, 32) * torch::rand({32});
        const torch::Tensor H = 2.0 * torch::matmul(X.t(), X) / 256.0;
        const core::WeightQuantSpec spec{3, 8, false, core::QuantDialect::Gptq};
        for (const bool act : {false, true}) {
            core::GptqOptions options;
            options.actOrder = act;
            const auto result = core::gptqQuantize(W, H, spec, options);
            QCOMPARE(result.stored.groups(), std::int64_t(4));
            QVERIFY(torch::equal(result.stored.dequantize(), result.quantized));
            torch::Tensor expected = torch::arange(32).div(8, "floor");
            if (act) {
                const torch::Tensor order = torch::argsort(H.diagonal(), 0, true);
                expected = expected.index_select(0, torch::argsort(order));
            }
            QVERIFY(torch::equal(result.stored.groupIndex, expected));
        }
    }
};

QTEST_GUILESS_MAIN(TestGptq)
#include "test_gptq.moc"
