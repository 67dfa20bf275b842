// SpQR (issue 16 §2): spqrQuantize against a plain column-by-column transcription of the
// reference algorithm (experiments/oac/spqr-reference-notes.md) written here, bit for bit; the
// stored form, the effective-bits formula of the SpQR paper, the outlier rule and the method
// in the pipeline, with both Hessian sources.

#include "calib/block_pipeline.h"
#include "calib/calibration_method.h"
#include "calib/spqr.h"
#include "config/run_config.h"
#include "model/decoder_model.h"
#include "quant/storage_bits.h"
#include "tiny_models.h"
#include "util/error.h"

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <limits>

namespace {

using torch::indexing::Slice;

// The reference's min/max quantizer on each row of x [n, width], returning dequantized values.
torch::Tensor referenceQuantizeRows(const torch::Tensor& x, int bits, bool symmetric, torch::Tensor* scaleOut = nullptr,
                                    torch::Tensor* zeroOut = nullptr)
{
    const double maxq = std::pow(2.0, bits) - 1.0;
    torch::Tensor xmin = x.amin(1).clone();
    torch::Tensor xmax = x.amax(1).clone();
    if (symmetric) {
        xmax = torch::maximum(xmin.abs(), xmax);
        const torch::Tensor negative = xmin < 0;
        xmin.index_put_({negative}, -xmax.index({negative}));
    }
    const torch::Tensor same = xmin == xmax;
    xmin.index_put_({same}, -1.0);
    xmax.index_put_({same}, 1.0);
    const torch::Tensor scale = ((xmax - xmin) / maxq).unsqueeze(1);
    const torch::Tensor zero = symmetric ? torch::full_like(scale, (maxq + 1) / 2) : (-xmin.unsqueeze(1) / scale);
    if (scaleOut)
        *scaleOut = scale.squeeze(1);
    if (zeroOut)
        *zeroOut = zero.squeeze(1);
    const torch::Tensor q = torch::clamp(torch::round(x / scale.clamp_min(1e-9) + zero), 0.0, maxq);
    return scale * (q - zero);
}

struct ReferenceResult {
    torch::Tensor weight;
    torch::Tensor outliers;
};

// SPQRUtil.quantize with every column updating all later columns at once (blocksize = cols).
ReferenceResult referenceSpqr(const torch::Tensor& weight, const torch::Tensor& hessian, int bits, std::int64_t group,
                              const core::SpqrOptions& o)
{
    torch::NoGradGuard noGrad;
    const std::int64_t cols = weight.size(1);
    torch::Tensor perm = o.actOrder ? torch::argsort(hessian.diagonal(), 0, true) : torch::arange(cols);
    torch::Tensor W = weight.index({Slice(), perm}).clone();
    torch::Tensor H = hessian.index({perm}).index({Slice(), perm}).clone();
    const torch::Tensor dead = H.diagonal() == 0;
    const torch::Tensor diagonal = torch::arange(cols);
    H.index_put_({diagonal, diagonal}, H.diagonal() + o.percentDamp * H.diagonal().abs().mean());
    H.index_put_({diagonal.index({dead}), diagonal.index({dead})}, 1.0);
    W.index_put_({Slice(), dead}, 0.0);
    const torch::Tensor U = torch::linalg_cholesky(torch::cholesky_inverse(torch::linalg_cholesky(H)), true);
    const torch::Tensor d = U.diagonal();
    const double tau = o.outliers ? o.outlierThreshold * (W.var(0) / d.square()).mean().item<double>()
                                  : std::numeric_limits<double>::infinity();
    torch::Tensor mask = torch::zeros_like(W, torch::kBool);
    torch::Tensor scale, zero;
    const int maxq = (1 << bits) - 1;
    const auto quantizeStat = [&](const torch::Tensor& stat) {
        return referenceQuantizeRows(stat.reshape({-1, o.statisticGroupSize}), o.statisticBits, false).reshape({-1});
    };
    for (std::int64_t c = 0; c < cols; ++c) {
        if (c % group == 0) {
            torch::Tensor G = W.index({Slice(), Slice(c, c + group)});
            if (std::isfinite(tau)) {
                // Leave-one-out, one left-out column at a time.
                const torch::Tensor dg = d.index({Slice(c, c + group)});
                const torch::Tensor base = ((referenceQuantizeRows(G, bits, false) - G) / dg).square().sum(1, true);
                torch::Tensor reduction = torch::empty_like(G);
                for (std::int64_t i = 0; i < group; ++i) {
                    std::vector<std::int64_t> keep;
                    for (std::int64_t k = 0; k < group; ++k)
                        if (k != i)
                            keep.push_back(k);
                    const torch::Tensor idx = torch::tensor(keep);
                    const torch::Tensor Gi = G.index_select(1, idx);
                    const torch::Tensor err =
                        ((referenceQuantizeRows(Gi, bits, false) - Gi) / dg.index_select(0, idx)).square().sum(1, true);
                    reduction.index_put_({Slice(), Slice(i, i + 1)}, base - err);
                }
                const torch::Tensor nonOutlier = 1 - (reduction > tau).to(torch::kFloat32);
                const torch::Tensor mean = (G * nonOutlier).sum(1, true) / nonOutlier.sum(1, true).clamp_min(1);
                G = G * nonOutlier + mean * (1 - nonOutlier);
            }
            referenceQuantizeRows(G, bits, false, &scale, &zero);
            if (o.statisticBits > 0) {
                scale = quantizeStat(scale);
                zero = quantizeStat(zero);
            }
        }
        const torch::Tensor w = W.index({Slice(), c});
        const auto qdq = [&](const torch::Tensor& x) {
            return scale * (torch::clamp(torch::round(x / scale.clamp_min(1e-9) + zero), 0.0, maxq) - zero);
        };
        torch::Tensor q = qdq(w);
        torch::Tensor err = (w - q) / U[c][c];
        if (std::isfinite(tau)) {
            const torch::Tensor isOut = err.square() > tau;
            mask.index_put_({Slice(), c}, isOut);
            const torch::Tensor f = isOut.to(torch::kFloat32);
            q = qdq(w * (1 - f)) * (1 - f) + w * f;
            err = (w - q) / U[c][c];
        }
        W.index_put_({Slice(), c}, q);
        if (c + 1 < cols)
            W.index_put_({Slice(), Slice(c + 1, cols)},
                         W.index({Slice(), Slice(c + 1, cols)}) - torch::outer(err, U[c].index({Slice(c + 1, cols)})));
    }
    const torch::Tensor inverse = torch::argsort(perm);
    return {W.index_select(1, inverse), mask.index_select(1, inverse)};
}

// A Linear with a few heavy input columns and planted large weights, and a Hessian from inputs.
struct Problem {
    torch::Tensor weight;
    torch::Tensor hessian;
};

Problem makeProblem(std::int64_t rows, std::int64_t cols, std::uint64_t seed)
{
    torch::manual_seed(seed);
    Problem p;
    p.weight = torch::randn({rows, cols}) * 0.05;
    p.weight.index_put_({torch::randint(rows, {12}), torch::randint(cols, {12})}, 0.6);
    torch::Tensor X = torch::randn({512, cols}) * (1 + torch::arange(cols) % 5);
    p.hessian = 2 * X.t().matmul(X) / 512;
    return p;
}

const core::WeightQuantSpec kSpec{3, 16, false, core::QuantDialect::Gptq};

} // namespace

class TestSpqr : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void matchesTheColumnByColumnReferenceBitForBit_data()
    {
        QTest::addColumn<bool>("outliers");
        QTest::addColumn<int>("statisticBits");
        QTest::addColumn<bool>("actOrder");
        QTest::newRow("outliers, qq3, act-order") << true << 3 << true;
        QTest::newRow("no outliers, 16-bit statistics") << false << 0 << false;
        QTest::newRow("outliers, 16-bit statistics, natural order") << true << 0 << false;
    }
    void matchesTheColumnByColumnReferenceBitForBit()
    {
        QFETCH(bool, outliers);
        QFETCH(int, statisticBits);
        QFETCH(bool, actOrder);
        const Problem p = makeProblem(32, 64, 7);
        core::SpqrOptions options;
        options.outliers = outliers;
        options.statisticBits = statisticBits;
        options.actOrder = actOrder;
        options.blockSize = 64; // one block: the same update order as the transcription
        const core::SpqrResult result = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
        const ReferenceResult reference = referenceSpqr(p.weight, p.hessian, kSpec.bits, kSpec.groupSize, options);
        QVERIFY(torch::equal(result.outlierMask, reference.outliers));
        QCOMPARE((result.quantized - reference.weight).abs().max().item<double>(), 0.0);
        if (outliers)
            QVERIFY(result.outlierMask.sum().item<std::int64_t>() > 0);
        else
            QCOMPARE(result.outlierMask.sum().item<std::int64_t>(), std::int64_t(0));

        // Lazy block updates change the arithmetic order only: the weights agree to float noise.
        options.blockSize = 16;
        const core::SpqrResult blocked = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
        const double differing = ((blocked.quantized - result.quantized).abs() > 1e-5).sum().item<double>();
        QVERIFY2(differing <= 0.01 * static_cast<double>(p.weight.numel()), qPrintable(QString::number(differing)));
    }

    void storedFormDequantizesExactlyAndCountsThePapersBits()
    {
        const Problem p = makeProblem(32, 64, 11);
        core::SpqrOptions options;
        options.actOrder = false;
        const core::SpqrResult result = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
        QVERIFY(torch::equal(result.stored.dequantize(), result.quantized));
        const double outliers = static_cast<double>(result.stored.outliers());
        QCOMPARE(outliers, result.outlierMask.sum().item<double>());
        // SpQR §4 / main.py get_average_number_of_bits: w + (qq_s + qq_z)/g + 2·32/(g·qq_g) + 32·share.
        const double expected = 3.0 + 6.0 / 16.0 + 64.0 / (16.0 * 16.0) + 32.0 * outliers / (32.0 * 64.0);
        QVERIFY(std::abs(core::effectiveBitsPerWeight(result.stored) - expected) < 1e-12);

        // The quantized statistics take at most 2^3 values in each run of 16 rows of a group.
        for (std::int64_t g = 0; g < result.stored.groups(); ++g)
            for (std::int64_t r = 0; r < 32; r += 16) {
                const torch::Tensor run = result.stored.scale.index({Slice(r, r + 16), g});
                QVERIFY(std::get<0>(at::_unique(run)).numel() <= 8);
            }

        // act-order: the same, plus the column → group index (32 bits per column).
        options.actOrder = true;
        const core::SpqrResult ordered = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
        QVERIFY(torch::equal(ordered.stored.dequantize(), ordered.quantized));
        QVERIFY(ordered.stored.hasScatteredGroups());
        const double orderedExpected = 3.0 + 6.0 / 16.0 + 0.25 +
                                       32.0 * static_cast<double>(ordered.stored.outliers()) / (32.0 * 64.0) +
                                       32.0 / 32.0;
        QVERIFY(std::abs(core::effectiveBitsPerWeight(ordered.stored) - orderedExpected) < 1e-12);

        // 16-bit statistics: the unrounded zero is a 16-bit float beside the 16-bit scale.
        options.statisticBits = 0;
        options.outliers = false;
        options.actOrder = false;
        const core::SpqrResult plain = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
        QVERIFY(std::abs(core::effectiveBitsPerWeight(plain.stored) - (3.0 + 32.0 / 16.0)) < 1e-12);
    }

    void outliersKeepTheirValueAndFollowTheThreshold()
    {
        const Problem p = makeProblem(32, 64, 3);
        core::SpqrOptions options;
        std::int64_t previous = std::numeric_limits<std::int64_t>::max();
        for (double t : {0.05, 0.2, 1.0, 5.0}) {
            options.outlierThreshold = t;
            const core::SpqrResult result = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
            const std::int64_t count = result.outlierMask.sum().item<std::int64_t>();
            QVERIFY2(count <= previous, qPrintable(QString("t=%1: %2 outliers").arg(t).arg(count)));
            previous = count;
            QVERIFY(std::isfinite(result.outlierThreshold) && result.outlierThreshold > 0);
        }
        // The planted 0.6 weights dominate the error at 3 bits in groups of 16: most are outliers.
        options.outlierThreshold = 0.2;
        const core::SpqrResult result = core::spqrQuantize(p.weight, p.hessian, kSpec, options);
        QVERIFY(result.outlierMask.index({p.weight == 0.6}).to(torch::kFloat32).mean().item<double>() >= 0.5);
    }

    void invariantToTheHessiansScale()
    {
        // ×4 scales U by exactly 1/2 and τ by exactly 4: the same decisions, the same weights.
        const Problem p = makeProblem(32, 64, 5);
        const core::SpqrResult a = core::spqrQuantize(p.weight, p.hessian, kSpec);
        const core::SpqrResult b = core::spqrQuantize(p.weight, 4.0 * p.hessian, kSpec);
        QVERIFY(torch::equal(a.outlierMask, b.outlierMask));
        QVERIFY(torch::equal(a.quantized, b.quantized));
    }

    void badInputIsNamed()
    {
        const Problem p = makeProblem(8, 32, 1);
        core::SpqrOptions options;
        options.outlierThreshold = 0.0;
        QVERIFY_THROWS_EXCEPTION(core::Error, core::spqrQuantize(p.weight, p.hessian, kSpec, options));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::spqrQuantize(p.weight, p.hessian.narrow(0, 0, 16), kSpec));
        try {
            core::spqrQuantize(p.weight, torch::zeros({32, 32}) - torch::eye(32) * 5, kSpec);
            QFAIL("a negative definite Hessian must be refused");
        } catch (const core::Error& e) {
            QVERIFY(QString(e.what()).contains("percdamp"));
        }
    }

    void methodRunsInThePipelineWithBothHessians()
    {
        const std::filesystem::path dir = std::filesystem::temp_directory_path() / "qs_test_spqr_model";
        testsupport::TinyModelSpec tiny;
        testsupport::writeTinyModel(dir.string(), tiny);
        torch::manual_seed(0);
        const torch::Tensor ids = torch::randint(tiny.vocab, {4, 16}, torch::kInt64);
        for (const std::string hessian : {"xtx", "oac"}) {
            core::RunConfig config = core::defaultRunConfig("spqr");
            config.options.set("hessian", hessian);
            config.options.set("statistic_group_size", std::int64_t(8));
            const auto method = core::createCalibrationMethod(config);
            core::DecoderModel model(dir.string());
            core::PipelineOptions options;
            options.spec = {2, 16, false, core::QuantDialect::Gptq};
            options.batchSize = 2;
            std::int64_t outliers = 0, linears = 0;
            options.onBlockFinished = [&](const core::BlockOutcome& block) {
                for (const auto& [layer, linear] : block.stored) {
                    outliers += linear.outliers();
                    ++linears;
                    QCOMPARE(linear.statisticBits, 3);
                    QVERIFY(core::effectiveBitsPerWeight(linear) > 2.0);
                }
            };
            core::runBlockPipeline(model, ids, *method, options);
            QCOMPARE(linears, std::int64_t(7 * tiny.layers));
            QVERIFY2(outliers > 0, hessian.c_str());
        }
        std::filesystem::remove_all(dir);
    }
};

QTEST_GUILESS_MAIN(TestSpqr)
#include "test_spqr.moc"
