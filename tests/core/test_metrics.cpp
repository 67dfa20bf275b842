// Diagnostics metrics (METHODS.md §2.2, §7.1, §11): histograms against a plain count,
// sliced-Wasserstein distances against the closed forms for Gaussians, QSUR against its
// analytic ideal and the rotation/scale properties the OSTQuant paper relies on, and
// Hessian saliency against a direct float64 computation.

#include "metrics/histogram.h"
#include "metrics/qsur.h"
#include "metrics/saliency.h"
#include "metrics/sliced_wasserstein.h"

#include "util/error.h"

#include <ATen/Parallel.h>
#include <QtTest>

#include <cmath>
#include <limits>
#include <numbers>
#include <set>

namespace {

struct PlainCount {
    std::vector<std::int64_t> counts;
    std::int64_t underflow = 0, overflow = 0, nan = 0;
};

// The documented binning, one value at a time: b = floor((v − lo) / (hi − lo) · bins) on
// the float32 value, v == hi to overflow. With the power-of-two ranges used below, both
// this and the accumulator's (v − lo) · scale are exact, so the counts must agree exactly.
PlainCount plainCount(const torch::Tensor& values, const core::HistogramEdges& edges)
{
    PlainCount out;
    out.counts.assign(static_cast<std::size_t>(edges.bins), 0);
    const torch::Tensor flat = values.to(torch::kFloat32).contiguous().reshape({-1});
    const auto v = flat.accessor<float, 1>();
    for (std::int64_t i = 0; i < flat.size(0); ++i) {
        const double x = v[i];
        if (std::isnan(x)) {
            ++out.nan;
        } else if (x < edges.lo) {
            ++out.underflow;
        } else if (x >= edges.hi) {
            ++out.overflow;
        } else {
            const auto b = static_cast<std::int64_t>(std::floor((x - edges.lo) / (edges.hi - edges.lo) * edges.bins));
            ++out.counts[static_cast<std::size_t>(std::min(b, edges.bins - 1))];
        }
    }
    return out;
}

core::Histogram histogramOf(const std::vector<float>& values, const core::HistogramEdges& edges)
{
    core::HistogramAccumulator accumulator(edges);
    accumulator.add(torch::tensor(values));
    return accumulator.histogram();
}

// Rows of N(0, 1)^d times `axisScale` on the first coordinate.
torch::Tensor gaussianRows(std::int64_t n, std::int64_t d, double axisScale)
{
    torch::Tensor x = torch::randn({n, d});
    x.select(1, 0).mul_(axisScale);
    return x;
}

torch::Tensor randomOrthogonal(std::int64_t d)
{
    return std::get<0>(torch::linalg_qr(torch::randn({d, d}, torch::kFloat64))).to(torch::kFloat32);
}

// float64 reference for the OBS map: w² / diag((H + λI)⁻¹), λ = damp · mean diag H.
torch::Tensor referenceObs(const torch::Tensor& W, const torch::Tensor& H, double percentDamp)
{
    torch::Tensor Hd = H.to(torch::kFloat64).clone();
    Hd.diagonal().add_(percentDamp * Hd.diagonal().mean().item<double>());
    return W.to(torch::kFloat64).square() / torch::inverse(Hd).diagonal();
}

} // namespace

class TestMetrics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // ---- histograms -------------------------------------------------------------------

    void histogramMatchesPlainCount_data()
    {
        QTest::addColumn<qint64>("count");
        QTest::addColumn<double>("lo");
        QTest::addColumn<double>("hi");
        QTest::addColumn<int>("bins");
        QTest::addColumn<bool>("transposed");
        QTest::addColumn<bool>("float64");
        QTest::addColumn<int>("pieces");
        QTest::newRow("small, 16 bins") << qint64(1001) << -2.0 << 2.0 << 16 << false << false << 1;
        QTest::newRow("one bin") << qint64(500) << -1.0 << 1.0 << 1 << false << false << 1;
        QTest::newRow("threaded, 256 bins, 3 batches") << qint64(400000) << -4.0 << 4.0 << 256 << false << false << 3;
        QTest::newRow("non-contiguous") << qint64(30000) << -3.0 << 5.0 << 64 << true << false << 1;
        QTest::newRow("float64 input") << qint64(30000) << -0.5 << 1.5 << 32 << false << true << 2;
    }

    void histogramMatchesPlainCount()
    {
        QFETCH(qint64, count);
        QFETCH(double, lo);
        QFETCH(double, hi);
        QFETCH(int, bins);
        QFETCH(bool, transposed);
        QFETCH(bool, float64);
        QFETCH(int, pieces);
        torch::manual_seed(11);
        torch::Tensor values = 2.0 * torch::randn({count}, float64 ? torch::kFloat64 : torch::kFloat32);
        // NaN, ±inf and values sitting exactly on lo, hi and an inner edge.
        const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
        const double special[] = {nan, inf, -inf, lo, hi, lo + (hi - lo) * 3 / bins, nan, lo, hi};
        for (std::size_t i = 0; i < std::size(special); ++i)
            values[static_cast<std::int64_t>(i * 37)] = special[i];
        if (transposed) // [count / 100, 100] viewed as its transpose
            values = values.reshape({-1, 100}).t();
        QVERIFY(transposed == !values.is_contiguous());

        const core::HistogramEdges edges{lo, hi, bins};
        core::HistogramAccumulator accumulator(edges);
        // Four threads whatever the machine, so that large pieces are split into chunks
        // whose counts must be merged.
        const int threads = at::get_num_threads();
        at::set_num_threads(4);
        if (pieces == 1) {
            accumulator.add(values); // the strided view itself when transposed
        } else {
            for (const torch::Tensor& piece : values.reshape({-1}).chunk(pieces))
                accumulator.add(piece);
        }
        at::set_num_threads(threads);
        const core::Histogram& h = accumulator.histogram();
        const PlainCount expected = plainCount(values, edges);
        QCOMPARE(h.total(), std::int64_t(count));
        QCOMPARE(h.counts, expected.counts);
        QCOMPARE(h.underflow, expected.underflow);
        QCOMPARE(h.overflow, expected.overflow);
        QCOMPARE(h.nan, std::int64_t(2));
        QCOMPARE(h.nan, expected.nan);
        QVERIFY(h.underflow >= 1 && h.overflow >= 3); // −inf; +inf and the two hi values
    }

    void histogramEdgesAreHalfOpen_data()
    {
        QTest::addColumn<float>("lo");
        QTest::addColumn<float>("hi");
        QTest::addColumn<int>("bins");
        QTest::newRow("[0, 1) / 4") << 0.0f << 1.0f << 4;
        QTest::newRow("[-0.3, 0.7) / 3") << -0.3f << 0.7f << 3;
        QTest::newRow("[0.001, 7.1) / 7") << 0.001f << 7.1f << 7;
        QTest::newRow("[-5, 5) / 256") << -5.0f << 5.0f << 256;
    }

    void histogramEdgesAreHalfOpen()
    {
        QFETCH(float, lo);
        QFETCH(float, hi);
        QFETCH(int, bins);
        const core::HistogramEdges edges{lo, hi, bins};
        const float below = std::nextafter(lo, -1e9f), justUnder = std::nextafter(hi, -1e9f);
        const core::Histogram h = histogramOf({lo, hi, below, justUnder}, edges);
        QCOMPARE(h.counts.front(), std::int64_t(1));                // v == lo → bin 0
        QCOMPARE(h.overflow, std::int64_t(1));                      // v == hi → overflow
        QCOMPARE(h.underflow, std::int64_t(1));                     // just below lo
        QCOMPARE(h.counts.back(), std::int64_t(bins == 1 ? 2 : 1)); // just below hi → last bin
        QCOMPARE(h.total(), std::int64_t(4));
    }

    void histogramHandCounted()
    {
        // [0, 1) in 4 bins of 0.25: 0 and −0 → bin 0; 0.25 starts bin 1; 0.2499 stays in 0.
        const core::Histogram h = histogramOf(
            {0.0f, -0.0f, 0.25f, 0.2499f, 0.5f, 0.99f, 1.0f, 2.0f, -0.01f, std::numeric_limits<float>::quiet_NaN()},
            {0.0, 1.0, 4});
        QCOMPARE(h.counts, (std::vector<std::int64_t>{3, 1, 1, 1}));
        QCOMPARE(h.underflow, std::int64_t(1));
        QCOMPARE(h.overflow, std::int64_t(2));
        QCOMPARE(h.nan, std::int64_t(1));
        QCOMPARE(h.total(), std::int64_t(10));
        // hi one double ulp above 3: v = 3 < hi, yet (v − lo) · bins / (hi − lo) rounds to
        // exactly 7 = bins. Still the last bin, not overflow.
        const core::Histogram top = histogramOf({3.0f}, {-1.0, std::nextafter(3.0, 4.0), 7});
        QCOMPARE(top.counts.back(), std::int64_t(1));
        QCOMPARE(top.overflow, std::int64_t(0));
    }

    void edgesForRange_data()
    {
        QTest::addColumn<double>("min");
        QTest::addColumn<double>("max");
        QTest::addColumn<double>("margin");
        QTest::addColumn<double>("lo");
        QTest::addColumn<double>("hi");
        QTest::newRow("2 % margin") << -1.0 << 3.0 << 0.02 << -1.08 << 3.08;
        QTest::newRow("no margin") << 0.5 << 2.5 << 0.0 << 0.5 << 2.5;
        QTest::newRow("constant") << 7.0 << 7.0 << 0.02 << 6.5 << 7.5;
        QTest::newRow("constant zero") << 0.0 << 0.0 << 0.1 << -0.5 << 0.5;
    }

    void edgesForRange()
    {
        QFETCH(double, min);
        QFETCH(double, max);
        QFETCH(double, margin);
        QFETCH(double, lo);
        QFETCH(double, hi);
        const core::HistogramEdges edges = core::edgesForRange(min, max, 128, margin);
        QCOMPARE(edges.bins, std::int64_t(128));
        QVERIFY(std::abs(edges.lo - lo) < 1e-12);
        QVERIFY(std::abs(edges.hi - hi) < 1e-12);
        core::HistogramAccumulator accumulator(edges);
        accumulator.add(torch::tensor({min, max}, torch::kFloat32));
        // with a margin both ends of the range are counted in range
        QCOMPARE(accumulator.histogram().overflow, std::int64_t(margin > 0 || min == max ? 0 : 1));
    }

    void badEdgesAreRejected()
    {
        QVERIFY_THROWS_EXCEPTION(core::Error, core::edgesForRange(0.0, 1.0, 0));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::edgesForRange(2.0, 1.0, 16));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::edgesForRange(0.0, 1.0, 16, -0.1));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::edgesForRange(0.0, std::numeric_limits<double>::infinity(), 16));
        core::RangeAccumulator empty;
        QVERIFY_THROWS_EXCEPTION(core::Error, core::edgesForRange(empty.min(), empty.max(), 16));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::HistogramAccumulator({1.0, 1.0, 8}));
    }

    void histogramKl_data()
    {
        QTest::addColumn<std::vector<float>>("p");
        QTest::addColumn<std::vector<float>>("q");
        QTest::addColumn<double>("expected");
        // Bins [0,1), [1,2), [2,3). p = (1/4, 1/2, 1/4), q = (1/2, 1/4, 1/4):
        // ¼ ln(¼ / ½) + ½ ln(½ / ¼) + ¼ ln 1 = ¼ ln 2 (ε-terms below 1e-9).
        QTest::newRow("3 bins") << std::vector<float>{0.5f, 1.5f, 1.5f, 2.5f}
                                << std::vector<float>{0.5f, 0.5f, 1.5f, 2.5f} << 0.25 * std::numbers::ln2;
        // q empty in bin 2, with its quarter in overflow: the empty bin costs ¼ ln(¼ / ε),
        // and q's overflow ε ln(ε / ¼) ≈ −6e-9.
        const double eps = 1e-10;
        QTest::newRow("empty bin and overflow")
            << std::vector<float>{0.5f, 1.5f, 1.5f, 2.5f} << std::vector<float>{0.5f, 0.5f, 1.5f, 9.0f}
            << 0.25 * std::log(0.25 / 0.5) + 0.5 * std::log(0.5 / 0.25) + (0.25 + eps) * std::log((0.25 + eps) / eps) +
                   eps * std::log(eps / (0.25 + eps));
    }

    void histogramKl()
    {
        QFETCH(std::vector<float>, p);
        QFETCH(std::vector<float>, q);
        QFETCH(double, expected);
        const core::HistogramEdges edges{0.0, 3.0, 3};
        const double kl = core::histogramKl(histogramOf(p, edges), histogramOf(q, edges));
        QVERIFY2(std::abs(kl - expected) < 1e-8 * std::max(1.0, expected),
                 qPrintable(QString("KL %1, expected %2").arg(kl, 0, 'g', 12).arg(expected, 0, 'g', 12)));
    }

    void histogramKlOfRandomData()
    {
        torch::manual_seed(12);
        const core::HistogramEdges edges{-4.0, 4.0, 64};
        core::HistogramAccumulator fp(edges), same(edges), wider(edges);
        const torch::Tensor x = torch::randn({20000});
        fp.add(x);
        same.add(x.clone());
        wider.add(1.2 * x);
        QCOMPARE(core::histogramKl(fp.histogram(), same.histogram()), 0.0);
        const double kl = core::histogramKl(fp.histogram(), wider.histogram());
        QVERIFY2(kl > 0.01, qPrintable(QString::number(kl)));
        QVERIFY(core::histogramKl(wider.histogram(), fp.histogram()) > 0.0);
        // NaN counts are left out of both distributions
        same.add(torch::full({5}, std::numeric_limits<float>::quiet_NaN()));
        QCOMPARE(core::histogramKl(fp.histogram(), same.histogram()), 0.0);
        core::HistogramAccumulator other(core::HistogramEdges{-4.0, 4.0, 32});
        other.add(x);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::histogramKl(fp.histogram(), other.histogram()));
        QVERIFY_THROWS_EXCEPTION(core::Error,
                                 core::histogramKl(fp.histogram(), core::HistogramAccumulator(edges).histogram()));
    }

    void rangeAccumulator()
    {
        core::RangeAccumulator range;
        QVERIFY(range.empty());
        range.add(torch::tensor({std::numeric_limits<float>::quiet_NaN()}));
        range.add(torch::empty({0}));
        QVERIFY(range.empty()); // NaN alone is no range
        range.add(torch::tensor({1.5f, 2.0f, std::numeric_limits<float>::quiet_NaN()}));
        range.add(torch::tensor({-3.0, std::numeric_limits<double>::infinity(), 0.25}, torch::kFloat64));
        QVERIFY(!range.empty());
        QCOMPARE(range.min(), -3.0);
        QCOMPARE(range.max(), 2.0);
        // threaded path (several chunks), strided input
        torch::manual_seed(13);
        const torch::Tensor big = torch::randn({600, 500}).t();
        const int threads = at::get_num_threads();
        at::set_num_threads(4);
        range.add(big);
        at::set_num_threads(threads);
        QCOMPARE(range.min(), std::min(-3.0, static_cast<double>(big.min().item<float>())));
        QCOMPARE(range.max(), static_cast<double>(big.max().item<float>()));
    }

    void channelStatsMatchTorch()
    {
        torch::manual_seed(14);
        // Offsets 100× the spread: a naive Σx² − n·mean² would lose the variance.
        const torch::Tensor scale = torch::tensor({1.0, 0.01, 3.0, 0.5, 2.0});
        const torch::Tensor offset = torch::tensor({0.0, 1.0, -300.0, 50.0, 0.1});
        const torch::Tensor a = (torch::randn({2, 7, 5}, torch::kFloat64) * scale + offset).to(torch::kFloat32);
        const torch::Tensor b = (torch::randn({13, 5}, torch::kFloat64) * scale + offset).to(torch::kFloat32);
        const torch::Tensor c = (torch::randn({1, 5}, torch::kFloat64) * scale + offset).to(torch::kFloat32);
        core::ChannelStatsAccumulator stats(5);
        QCOMPARE(stats.mean().sum().item<double>(), 0.0);
        stats.add(a);
        stats.add(b);
        stats.add(c);
        stats.add(torch::empty({0, 5}));
        QCOMPARE(stats.rows(), std::int64_t(28));
        const torch::Tensor all = torch::cat({a.reshape({-1, 5}), b, c}).to(torch::kFloat64);
        QVERIFY(torch::allclose(stats.absMax(), all.abs().amax(0), 0.0, 0.0));
        QVERIFY(torch::allclose(stats.mean(), all.mean(0), 1e-12, 1e-12));
        QVERIFY(torch::allclose(stats.std(), all.std(0, /*unbiased=*/false), 1e-9, 1e-12));
        QVERIFY_THROWS_EXCEPTION(core::Error, stats.add(torch::zeros({3, 4})));
    }

    // ---- sliced Wasserstein -----------------------------------------------------------

    void directionsAreSeededUnitVectors()
    {
        torch::manual_seed(1);
        const torch::Tensor u = core::randomUnitDirections(16, 8, 42);
        torch::manual_seed(2); // torch's generator plays no part
        const torch::Tensor again = core::randomUnitDirections(16, 8, 42);
        const torch::Tensor other = core::randomUnitDirections(16, 8, 43);
        QCOMPARE(u.sizes().vec(), (std::vector<std::int64_t>{16, 8}));
        QCOMPARE(u.scalar_type(), torch::kFloat32);
        QVERIFY(torch::allclose(u.norm(2, 1), torch::ones({16}), 0.0, 1e-6));
        QVERIFY(torch::equal(u, again));
        QVERIFY(!torch::allclose(u, other, 1e-2, 1e-2));
        // Odd count × dim uses the last Box–Muller pair halfway; still unit rows.
        QVERIFY(torch::allclose(core::randomUnitDirections(3, 5, 7).norm(2, 1), torch::ones({3}), 0.0, 1e-6));
        // Golden values: this implementation's output when it was written (mt19937_64 +
        // Box–Muller). Stored runs record only (seed, K, D), so any change here makes
        // their SW numbers incomparable: change them only together with a format bump.
        const torch::Tensor first = u[0];
        const float golden[] = {-0.307875693f, -0.367579848f, 0.316427141f};
        for (int i = 0; i < 3; ++i)
            QVERIFY2(std::abs(first[i].item<float>() - golden[i]) < 1e-6f,
                     qPrintable(QString("u[0][%1] = %2").arg(i).arg(first[i].item<float>(), 0, 'g', 9)));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::randomUnitDirections(0, 8, 1));
    }

    void directionsAreIsotropic()
    {
        // Uniform on the sphere: E[u uᵀ] = I/d. 4000 directions in R^4: entries within ~0.01.
        const torch::Tensor u = core::randomUnitDirections(4000, 4, 5).to(torch::kFloat64);
        const torch::Tensor second = torch::mm(u.t(), u) / 4000.0;
        QVERIFY2(torch::allclose(second, torch::eye(4, torch::kFloat64) / 4.0, 0.0, 0.02),
                 qPrintable(QString::number((second - torch::eye(4) / 4.0).abs().max().item<double>())));
    }

    void swOfIdenticalSetsIsZeroAndSymmetric()
    {
        torch::manual_seed(21);
        const torch::Tensor u = core::randomUnitDirections(8, 6, 3);
        const torch::Tensor y = torch::randn({4, 50, 6});
        const torch::Tensor yq = y + 0.3 * torch::randn({4, 50, 6});
        const torch::Tensor a = core::projectOnto(y, u);
        const torch::Tensor b = core::projectOnto(yq, u);
        QCOMPARE(a.sizes().vec(), (std::vector<std::int64_t>{200, 8}));
        QVERIFY(torch::allclose(a, torch::mm(y.reshape({-1, 6}), u.t()), 1e-6, 1e-6));

        const core::ProjectedDistances same = core::projectedDistances(a, a.flip(0)); // order does not matter
        QCOMPARE(same.sw1, 0.0);
        QCOMPARE(same.sw2, 0.0);
        QCOMPARE(same.w1.abs().max().item<double>(), 0.0);

        const core::ProjectedDistances ab = core::projectedDistances(a, b);
        const core::ProjectedDistances ba = core::projectedDistances(b, a);
        QVERIFY(ab.sw1 > 0.0);
        QCOMPARE(ab.w1.sizes().vec(), (std::vector<std::int64_t>{8}));
        QVERIFY(torch::equal(ab.w1, ba.w1));
        QVERIFY(torch::equal(ab.w2, ba.w2));
        QCOMPARE(ab.sw1, ab.w1.mean().item<double>());
        QVERIFY(std::abs(ab.sw2 - std::sqrt(ab.w2.square().mean().item<double>())) < 1e-15);
        QVERIFY((ab.w2 >= ab.w1 - 1e-12).all().item<bool>()); // W2 ≥ W1 (Jensen)

        QVERIFY_THROWS_EXCEPTION(core::Error, core::projectedDistances(a, b.narrow(0, 0, 100)));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::projectOnto(torch::randn({3, 5}), u));
    }

    void gaussianShift_data()
    {
        QTest::addColumn<double>("delta");
        QTest::newRow("0.5") << 0.5;
        QTest::newRow("1") << 1.0;
        QTest::newRow("3") << 3.0;
    }

    void gaussianShift()
    {
        // N(0,1) vs N(δ,1): a translation, so W1 = W2 = δ exactly for the distributions;
        // with 20000 samples each the empirical values are within a few 0.01.
        QFETCH(double, delta);
        torch::manual_seed(22);
        const torch::Tensor direction = torch::ones({1, 1});
        const torch::Tensor a = core::projectOnto(torch::randn({20000, 1}), direction);
        const torch::Tensor b = core::projectOnto(torch::randn({20000, 1}) + delta, direction);
        const core::ProjectedDistances d = core::projectedDistances(a, b);
        QVERIFY2(std::abs(d.sw1 - delta) < 0.05, qPrintable(QString("W1 %1").arg(d.sw1)));
        QVERIFY2(std::abs(d.sw2 - delta) < 0.05, qPrintable(QString("W2 %1").arg(d.sw2)));
    }

    void gaussianScale_data()
    {
        QTest::addColumn<double>("sigma");
        QTest::newRow("0.5") << 0.5;
        QTest::newRow("1.3") << 1.3;
        QTest::newRow("2") << 2.0;
    }

    void gaussianScale()
    {
        // W2(N(0,1), N(0,σ²)) = |1 − σ| (the Gaussian closed form
        // W2² = (μ1 − μ2)² + (σ1 − σ2)²); W1 = |1 − σ|·E|Z| = |1 − σ|·sqrt(2/π).
        QFETCH(double, sigma);
        torch::manual_seed(23);
        const torch::Tensor direction = torch::ones({1, 1});
        const torch::Tensor a = core::projectOnto(torch::randn({20000, 1}), direction);
        const torch::Tensor b = core::projectOnto(sigma * torch::randn({20000, 1}), direction);
        const core::ProjectedDistances d = core::projectedDistances(a, b);
        QVERIFY2(std::abs(d.sw2 - std::abs(1.0 - sigma)) < 0.05, qPrintable(QString("W2 %1").arg(d.sw2)));
        const double w1 = std::abs(1.0 - sigma) * std::sqrt(2.0 / std::numbers::pi);
        QVERIFY2(std::abs(d.sw1 - w1) < 0.05, qPrintable(QString("W1 %1 vs %2").arg(d.sw1).arg(w1)));
    }

    void columnQuantiles()
    {
        torch::manual_seed(24);
        const torch::Tensor p = torch::randn({101, 3});
        const torch::Tensor q = core::columnQuantiles(p, 4);
        QCOMPARE(q.sizes().vec(), (std::vector<std::int64_t>{3, 5}));
        QVERIFY(torch::equal(q.select(1, 0), std::get<0>(p.min(0))));
        QVERIFY(torch::equal(q.select(1, 4), std::get<0>(p.max(0))));
        QVERIFY(torch::equal(q.select(1, 2), std::get<0>(p.median(0)))); // odd N: the middle value
        QVERIFY((q.diff(1, 1) >= 0).all().item<bool>());
        // Even N: linear interpolation, as torch.quantile.
        const torch::Tensor even = torch::randn({100, 2});
        const torch::Tensor qe = core::columnQuantiles(even, 10);
        const torch::Tensor probabilities = torch::linspace(0.0, 1.0, 11);
        QVERIFY(torch::allclose(qe, torch::quantile(even, probabilities, 0).t(), 1e-6, 1e-6));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::columnQuantiles(p, 0));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::columnQuantiles(torch::empty({0, 3}), 4));
    }

    // ---- QSUR --------------------------------------------------------------------------

    void qsurIdealIsBallInCube()
    {
        const std::int64_t d = 16;
        const core::QsurResult ideal = core::qsurFromMoments(torch::zeros({d}), torch::eye(d) * 3.0);
        // π^{d/2} / (Γ(d/2 + 1) 2^d) for d = 16: π⁸ / (8! · 2¹⁶) (METHODS.md §7.1)
        const double qsurMax = std::pow(std::numbers::pi, 8) / (40320.0 * 65536.0);
        QVERIFY(std::abs(ideal.log10Qsur - std::log10(qsurMax)) < 1e-9);
        QVERIFY(std::abs(ideal.perDim - std::pow(qsurMax, 1.0 / d)) < 1e-12);
        QVERIFY(std::abs(ideal.perDimNormalized - 1.0) < 1e-12);
        QVERIFY(torch::allclose(ideal.eigenvalues, torch::ones({d}, torch::kFloat64), 1e-12, 1e-12));
        QVERIFY(torch::allclose(ideal.diagonal, torch::ones({d}, torch::kFloat64), 1e-12, 1e-12));
        // Axis-aligned with one axis 10× wider: volume ratio ·10, cube ·10^d, so
        // perDimNormalized = 10^{(1 − d)/d} exactly.
        torch::Tensor sigma = torch::eye(d, torch::kFloat64);
        sigma[0][0] = 100.0;
        const core::QsurResult elongated = core::qsurFromMoments(torch::zeros({d}), sigma);
        // (the 1e-8·tr/d ridge moves it by ~3e-8 relative)
        const double analytic = std::pow(10.0, (1.0 - d) / d);
        QVERIFY(std::abs(elongated.perDimNormalized - analytic) < 1e-7 * analytic);
        // spectrum divided by mean λ = 115/16
        QVERIFY(std::abs(elongated.eigenvalues[0].item<double>() - 100.0 * 16.0 / 115.0) < 1e-6);
        QVERIFY(std::abs(elongated.diagonal[1].item<double>() - 16.0 / 115.0) < 1e-6);
    }

    void qsurOfIsotropicBeatsElongated()
    {
        torch::manual_seed(31);
        const core::QsurResult iso = core::qsur(gaussianRows(20000, 16, 1.0));
        const core::QsurResult elongated = core::qsur(gaussianRows(20000, 16, 10.0));
        QVERIFY2(iso.perDim > 2.0 * elongated.perDim,
                 qPrintable(QString("%1 vs %2").arg(iso.perDim).arg(elongated.perDim)));
        QVERIFY2(iso.perDimNormalized > 0.9 && iso.perDimNormalized <= 1.0 + 1e-9,
                 qPrintable(QString::number(iso.perDimNormalized)));
        const double analytic = std::pow(10.0, -15.0 / 16.0);
        QVERIFY2(std::abs(elongated.perDimNormalized - analytic) < 0.05 * analytic,
                 qPrintable(QString("%1 vs %2").arg(elongated.perDimNormalized).arg(analytic)));
    }

    void qsurUnderRotation()
    {
        torch::manual_seed(32);
        const torch::Tensor R = randomOrthogonal(16);
        QVERIFY(torch::allclose(torch::mm(R, R.t()), torch::eye(16), 1e-5, 1e-5));
        // Isotropic: a rotation changes nothing but the sample.
        const torch::Tensor iso = gaussianRows(20000, 16, 1.0);
        const double before = core::qsur(iso).perDimNormalized;
        const double after = core::qsur(torch::mm(iso, R)).perDimNormalized;
        QVERIFY2(std::abs(before - after) < 0.02, qPrintable(QString("%1 vs %2").arg(before).arg(after)));
        // Axis-aligned elongated: a rotation spreads Σ_00 = 100 over the diagonal, so the
        // cube shrinks while Π λ stays: QSUR rises (the OSTQuant argument for rotations).
        const torch::Tensor elongated = gaussianRows(20000, 16, 10.0);
        const core::QsurResult aligned = core::qsur(elongated);
        const core::QsurResult rotated = core::qsur(torch::mm(elongated, R));
        QVERIFY2(rotated.perDim > 1.5 * aligned.perDim,
                 qPrintable(QString("%1 vs %2").arg(rotated.perDim).arg(aligned.perDim)));
        QVERIFY(rotated.diagonal.max().item<double>() < 0.8 * aligned.diagonal.max().item<double>());
        // the same sample rotated: cov(XR) = Rᵀ cov(X) R, same spectrum up to rounding
        QVERIFY(torch::allclose(rotated.eigenvalues, aligned.eigenvalues, 1e-4, 1e-6));
        // … and agrees with the population value Rᵀ Σ R within sampling error.
        torch::Tensor sigma = torch::eye(16, torch::kFloat64);
        sigma[0][0] = 100.0;
        const torch::Tensor Rd = R.to(torch::kFloat64);
        const double population =
            core::qsurFromMoments(torch::zeros({16}), torch::mm(torch::mm(Rd.t(), sigma), Rd)).perDimNormalized;
        QVERIFY2(std::abs(rotated.perDimNormalized - population) < 0.03 * population,
                 qPrintable(QString("%1 vs %2").arg(rotated.perDimNormalized).arg(population)));
    }

    void qsurIsScaleInvariant_data()
    {
        QTest::addColumn<double>("scale");
        QTest::newRow("×8") << 8.0;
        QTest::newRow("×0.37") << 0.37;
        QTest::newRow("×1000") << 1000.0;
    }

    void qsurIsScaleInvariant()
    {
        QFETCH(double, scale);
        torch::manual_seed(33);
        // Correlated data with a mean, so both the cube and the ellipsoid depend on μ.
        const torch::Tensor x = torch::mm(torch::randn({4000, 12}), torch::randn({12, 12})) + torch::randn({12}) * 3.0;
        const core::QsurResult base = core::qsur(x);
        const core::QsurResult scaled = core::qsur(x * scale);
        // Exact but for float32 rounding of the scaled data and of the per-batch GEMM, which
        // the smallest eigenvalues of this correlated set amplify: 1e-6 relative with
        // OpenBLAS's Haswell kernels, 1.7e-5 with its SkylakeX ones (a different summation
        // order). A scale dependence would show as an O(1) difference.
        QVERIFY2(std::abs(base.log10Qsur - scaled.log10Qsur) < 1e-4 * std::abs(base.log10Qsur),
                 qPrintable(QString("%1 vs %2").arg(base.log10Qsur, 0, 'g', 12).arg(scaled.log10Qsur, 0, 'g', 12)));
        QVERIFY2(
            std::abs(base.perDimNormalized - scaled.perDimNormalized) < 1e-4 * base.perDimNormalized,
            qPrintable(
                QString("%1 vs %2").arg(base.perDimNormalized, 0, 'g', 12).arg(scaled.perDimNormalized, 0, 'g', 12)));
        QVERIFY(base.perDimNormalized < 0.9); // the test data is far from the ideal
    }

    void qsurNeverExceedsIdeal()
    {
        // Ellipsoid / its bounding box ≤ ball / cube (Hadamard: Π Σ_jj ≥ det Σ), for any Σ and μ.
        torch::manual_seed(34);
        for (int trial = 0; trial < 20; ++trial) {
            const std::int64_t d = 2 + trial;
            const torch::Tensor A = torch::randn({d, d}, torch::kFloat64);
            const core::QsurResult r =
                core::qsurFromMoments(torch::randn({d}, torch::kFloat64) * (trial % 3), torch::mm(A, A.t()));
            QVERIFY2(r.perDimNormalized <= 1.0 + 1e-9 && r.perDimNormalized > 0.0,
                     qPrintable(QString("d = %1: %2").arg(d).arg(r.perDimNormalized)));
        }
    }

    void momentAccumulatorMatchesTorch()
    {
        torch::manual_seed(35);
        // Offsets 1000× the spread (cancellation without the shift).
        const torch::Tensor x = torch::randn({300, 6}) * 0.1 + torch::tensor({100.0f, -50.0f, 0.0f, 3.0f, 1.0f, 20.0f});
        core::MomentAccumulator moments(6);
        moments.add(x.narrow(0, 0, 100).reshape({4, 25, 6}));
        moments.add(x.narrow(0, 100, 200));
        QCOMPARE(moments.rows(), std::int64_t(300));
        const torch::Tensor xd = x.to(torch::kFloat64);
        const torch::Tensor centred = xd - xd.mean(0);
        const torch::Tensor cov = torch::mm(centred.t(), centred) / 300.0;
        QVERIFY(torch::allclose(moments.mean(), xd.mean(0), 1e-12, 1e-12));
        QVERIFY2(torch::allclose(moments.covariance(), cov, 1e-5, 1e-8),
                 qPrintable(QString::number((moments.covariance() - cov).abs().max().item<double>())));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::MomentAccumulator(6).mean());
        QVERIFY_THROWS_EXCEPTION(core::Error, moments.add(torch::zeros({2, 5})));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::qsur(torch::ones({10, 4}))); // no volume
    }

    void chiSquareQuantile_data()
    {
        QTest::addColumn<qint64>("d");
        QTest::addColumn<double>("p");
        QTest::addColumn<double>("expected");
        QTest::addColumn<double>("tolerance");
        // Upper critical values of χ² (NIST/SEMATECH e-Handbook of Statistical Methods,
        // §1.3.6.7.4); Wilson–Hilferty's own error is 1.3e-3 at d = 10.
        QTest::newRow("d=10, 0.99") << qint64(10) << 0.99 << 23.209 << 2e-3;
        QTest::newRow("d=16, 0.99") << qint64(16) << 0.99 << 32.000 << 1e-3;
        QTest::newRow("d=50, 0.99") << qint64(50) << 0.99 << 76.154 << 5e-4;
        QTest::newRow("d=100, 0.99") << qint64(100) << 0.99 << 135.807 << 2e-4;
        QTest::newRow("d=100, 0.05") << qint64(100) << 0.05 << 77.929 << 2e-4;
        QTest::newRow("d=10, 0.5") << qint64(10) << 0.5 << 9.342 << 1e-3;
    }

    void chiSquareQuantile()
    {
        QFETCH(qint64, d);
        QFETCH(double, p);
        QFETCH(double, expected);
        QFETCH(double, tolerance);
        const double c = core::chiSquareQuantile(d, p);
        QVERIFY2(std::abs(c - expected) < tolerance * expected, qPrintable(QString::number(c, 'g', 10)));
    }

    void chiSquareQuantileRejectsBadInput()
    {
        QVERIFY_THROWS_EXCEPTION(core::Error, core::chiSquareQuantile(0, 0.99));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::chiSquareQuantile(10, 1.0));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::chiSquareQuantile(10, 0.0));
    }

    // ---- saliency ----------------------------------------------------------------------

    void maxPoolHandMade()
    {
        // 5 × 7 with maxSide 3 → tiles of 2 × 3: rows {0,1} {2,3} {4}, columns {0–2} {3–5} {6}.
        const torch::Tensor map = torch::tensor({0.f,  17.f, 34.f, 16.f, 33.f, 15.f, 32.f, //
                                                 14.f, 31.f, 13.f, 30.f, 12.f, 29.f, 11.f, //
                                                 28.f, 10.f, 27.f, 9.f,  26.f, 8.f,  25.f, //
                                                 7.f,  24.f, 6.f,  23.f, 5.f,  22.f, 4.f,  //
                                                 21.f, 3.f,  20.f, 2.f,  19.f, 1.f,  18.f})
                                      .reshape({5, 7});
        const core::PooledMap pooled = core::maxPool(map, 3);
        QCOMPARE(pooled.poolRows, std::int64_t(2));
        QCOMPARE(pooled.poolColumns, std::int64_t(3));
        const torch::Tensor expected =
            torch::tensor({34.f, 33.f, 32.f, 28.f, 26.f, 25.f, 21.f, 19.f, 18.f}).reshape({3, 3});
        QVERIFY(torch::equal(pooled.values, expected));
        // Already small enough: unchanged; negative values survive the −inf padding.
        const core::PooledMap same = core::maxPool(-map, 7);
        QCOMPARE(same.poolRows, std::int64_t(1));
        QVERIFY(torch::equal(same.values, -map));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::maxPool(map, 0));
    }

    void obsSaliencyMatchesFloat64()
    {
        torch::manual_seed(41);
        const torch::Tensor W = torch::randn({6, 10});
        const torch::Tensor X = torch::mm(torch::randn({40, 4}), torch::randn({4, 10})) + 0.1 * torch::randn({40, 10});
        const torch::Tensor H = 2.0 * torch::mm(X.t(), X) / 40.0;
        const torch::Tensor Q = torch::round(W * 2.0) / 2.0;
        const double damp = 0.05;
        const core::SaliencyResult r = core::hessianSaliency(W, Q, H, damp, 5, 16);
        const torch::Tensor obs = referenceObs(W, H, damp);
        const torch::Tensor sensitivity = referenceObs(W - Q, H, damp);
        QCOMPARE(r.obs.poolRows, std::int64_t(1));
        QVERIFY(torch::allclose(r.obs.values.to(torch::kFloat64), obs, 1e-5, 1e-9));
        QVERIFY(torch::allclose(r.sensitivity.values.to(torch::kFloat64), sensitivity, 1e-5, 1e-9));
        QVERIFY(std::abs(r.meanObs - obs.mean().item<double>()) < 1e-5 * obs.mean().item<double>());
        QVERIFY(std::abs(r.meanSensitivity - sensitivity.mean().item<double>()) <
                1e-5 * sensitivity.mean().item<double>());
        QVERIFY(torch::allclose(r.hessianDiagonal, H.diagonal()));
        QVERIFY(r.meanSensitivity < r.meanObs);
    }

    void topKIsTheTrueTopK_data()
    {
        QTest::addColumn<int>("k");
        QTest::newRow("10") << 10;
        QTest::newRow("all 600") << 600;
        QTest::newRow("more than all") << 1000;
        QTest::newRow("none") << 0;
    }

    void topKIsTheTrueTopK()
    {
        QFETCH(int, k);
        torch::manual_seed(42);
        const torch::Tensor W = torch::randn({20, 30});
        const torch::Tensor X = torch::randn({100, 30}) * torch::rand({30});
        const torch::Tensor H = 2.0 * torch::mm(X.t(), X) / 100.0;
        const core::SaliencyResult r = core::hessianSaliency(W, W, H, 0.01, k, 8);
        const torch::Tensor full = referenceObs(W, H, 0.01);
        const torch::Tensor sorted = std::get<0>(full.reshape({-1}).sort(0, true));
        QCOMPARE(static_cast<std::int64_t>(r.topObs.size()), std::min<std::int64_t>(k, 600));
        for (std::size_t i = 0; i < r.topObs.size(); ++i) {
            const core::SalientWeight& s = r.topObs[i];
            const double truth = full[s.row][s.column].item<double>();
            QVERIFY(std::abs(s.value - truth) < 1e-5 * truth); // index ↔ value
            QVERIFY(std::abs(s.value - sorted[static_cast<std::int64_t>(i)].item<double>()) < 1e-5 * truth); // rank
        }
        if (k == 1000) { // every entry exactly once
            std::set<std::pair<std::int64_t, std::int64_t>> seen;
            for (const core::SalientWeight& s : r.topObs)
                seen.insert({s.row, s.column});
            QCOMPARE(seen.size(), std::size_t(600));
        }
        // Max-pooled to 8 × 8 at most: 3 × 4 tiles.
        QCOMPARE(r.obs.values.sizes().vec(), (std::vector<std::int64_t>{7, 8}));
        QCOMPARE(r.obs.poolRows * r.obs.poolColumns, std::int64_t(12));
        QVERIFY(std::abs(r.obs.values.max().item<double>() - sorted[0].item<double>()) <
                1e-5 * sorted[0].item<double>());
        QCOMPARE(r.meanSensitivity, 0.0); // quantized == weight
    }

    void profilesSumColumns()
    {
        torch::manual_seed(43);
        const torch::Tensor W = torch::randn({25, 9});
        const torch::Tensor Q = W + 0.1 * torch::randn({25, 9});
        const torch::Tensor X = torch::randn({60, 9});
        const torch::Tensor H = 2.0 * torch::mm(X.t(), X) / 60.0;
        const core::SaliencyResult r = core::hessianSaliency(W, Q, H, 0.01, 3, 4);
        QCOMPARE(r.obsProfile.sizes().vec(), (std::vector<std::int64_t>{9}));
        QVERIFY(torch::allclose(r.obsProfile.to(torch::kFloat64), referenceObs(W, H, 0.01).sum(0), 1e-5, 1e-8));
        QVERIFY(
            torch::allclose(r.sensitivityProfile.to(torch::kFloat64), referenceObs(W - Q, H, 0.01).sum(0), 1e-5, 1e-8));
    }

    void deadColumnsStayFinite()
    {
        torch::manual_seed(44);
        const torch::Tensor W = torch::randn({8, 12});
        torch::Tensor X = torch::randn({50, 12});
        X.select(1, 3).zero_();
        X.select(1, 7).zero_();
        const torch::Tensor H = 2.0 * torch::mm(X.t(), X) / 50.0;
        const core::SaliencyResult r = core::hessianSaliency(W, torch::zeros_like(W), H);
        QVERIFY(torch::isfinite(r.obs.values).all().item<bool>());
        QVERIFY(torch::isfinite(r.sensitivity.values).all().item<bool>());
        QVERIFY(torch::isfinite(r.obsProfile).all().item<bool>());
        QVERIFY(std::isfinite(r.meanObs) && std::isfinite(r.meanSensitivity));
        QCOMPARE(r.obsProfile[3].item<float>(), 0.0f);
        QCOMPARE(r.sensitivityProfile[7].item<float>(), 0.0f);
        QVERIFY(r.obsProfile[4].item<float>() > 0.0f);
        for (const core::SalientWeight& s : r.topObs)
            QVERIFY(s.column != 3 && s.column != 7 && std::isfinite(s.value));
        // All columns dead (a Hessian of zeros): everything is zero, nothing is NaN.
        const core::SaliencyResult none = core::hessianSaliency(W, W, torch::zeros({12, 12}));
        QCOMPARE(none.meanObs, 0.0);
        QVERIFY(torch::isfinite(none.obs.values).all().item<bool>());
    }

    void saliencyRejectsBadShapes()
    {
        const torch::Tensor W = torch::randn({4, 6});
        QVERIFY_THROWS_EXCEPTION(core::Error, core::hessianSaliency(W, torch::randn({4, 5}), torch::eye(6)));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::hessianSaliency(W, W, torch::eye(5)));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::hessianSaliency(W, W, -torch::eye(6))); // not positive definite
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
