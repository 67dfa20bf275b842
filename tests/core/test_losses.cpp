// Reconstruction losses (issue 7): closed-form values, gradients against central finite
// differences in float64, the sliced-Wasserstein properties (zero for identical sets,
// positive otherwise, blind to token order), KL-Top against the full KL, and the
// composite loss (weights, reproducible seeded directions).

#include "loss/reconstruction_loss.h"
#include "metrics/sliced_wasserstein.h"
#include "util/error.h"

#include <QtTest>

#include <functional>

namespace {

using LossFunction = std::function<torch::Tensor(const torch::Tensor&)>;

// Largest relative difference between autograd's gradient and central differences on
// `coordinates` random entries of `x` (float64).
double gradientError(const LossFunction& loss, torch::Tensor x, int coordinates = 12, double h = 1e-6)
{
    x = x.detach().clone().requires_grad_(true);
    loss(x).backward();
    const torch::Tensor analytic = x.grad().reshape({-1});
    torch::NoGradGuard noGrad;
    torch::Tensor flat = x.detach().reshape({-1});
    double worst = 0.0;
    for (int i = 0; i < coordinates; ++i) {
        const std::int64_t j = (i * 7919) % flat.numel();
        const double saved = flat[j].item<double>();
        flat[j] = saved + h;
        const double up = loss(flat.reshape(x.sizes())).item<double>();
        flat[j] = saved - h;
        const double down = loss(flat.reshape(x.sizes())).item<double>();
        flat[j] = saved;
        const double numeric = (up - down) / (2.0 * h);
        const double exact = analytic[j].item<double>();
        worst = std::max(worst, std::abs(numeric - exact) / std::max(1e-6, std::abs(numeric) + std::abs(exact)));
    }
    return worst;
}

torch::Tensor randomOutputs(std::int64_t seed, std::vector<std::int64_t> shape = {2, 24, 16})
{
    torch::manual_seed(static_cast<std::uint64_t>(seed));
    return torch::randn(shape, torch::kFloat64);
}

} // namespace

class TestLosses : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void closedForms()
    {
        const torch::Tensor target = torch::zeros({2, 3, 4}, torch::kFloat64);
        const torch::Tensor prediction = torch::full({2, 3, 4}, 0.5, torch::kFloat64);
        QCOMPARE(core::mseLoss(prediction, target).item<double>(), 0.25);
        QCOMPARE(core::l2Loss(prediction, target).item<double>(), 1.0); // 4 channels × 0.25 per token
        // One direction along the first axis: the sorted first coordinates differ by 0.5 each.
        const torch::Tensor axis = torch::tensor({1.0, 0.0, 0.0, 0.0}).reshape({1, 4});
        QCOMPARE(core::slicedWassersteinLoss(prediction, target, axis, 1).item<double>(), 0.5);
        QCOMPARE(core::slicedWassersteinLoss(prediction, target, axis, 2).item<double>(), 0.25);
        // NLC is scale-blind and zero for parallel outputs.
        const torch::Tensor y = randomOutputs(1);
        QVERIFY(std::abs(core::nlcLoss(3.0 * y, y).item<double>()) < 1e-12);
        QVERIFY(core::nlcLoss(y + randomOutputs(2), y).item<double>() > 0.0);
    }

    void slicedWassersteinMatchesSortedOneDimensionalDistance()
    {
        const torch::Tensor a = randomOutputs(3), b = randomOutputs(4) * 1.5 + 0.3;
        const torch::Tensor directions = core::randomUnitDirections(5, 16, 11).to(torch::kFloat64);
        double expected = 0.0;
        for (std::int64_t k = 0; k < 5; ++k) {
            const torch::Tensor u = directions[k];
            const torch::Tensor pa = std::get<0>(torch::sort(torch::mv(a.reshape({-1, 16}), u)));
            const torch::Tensor pb = std::get<0>(torch::sort(torch::mv(b.reshape({-1, 16}), u)));
            expected += (pa - pb).abs().mean().item<double>() / 5.0;
        }
        const double sw = core::slicedWassersteinLoss(a, b, directions, 1).item<double>();
        QVERIFY2(std::abs(sw - expected) < 1e-12, qPrintable(QString("%1 vs %2").arg(sw).arg(expected)));
        // The same as the diagnostics' SW1 on the same directions (float32 there).
        const auto distances =
            core::projectedDistances(core::projectOnto(b.to(torch::kFloat32), directions.to(torch::kFloat32)),
                                     core::projectOnto(a.to(torch::kFloat32), directions.to(torch::kFloat32)));
        QVERIFY(std::abs(distances.sw1 - sw) < 1e-5);
    }

    void slicedWassersteinIsADistanceBetweenDistributions()
    {
        const torch::Tensor y = randomOutputs(5);
        const torch::Tensor directions = core::randomUnitDirections(32, 16, 3).to(torch::kFloat64);
        QCOMPARE(core::slicedWassersteinLoss(y, y, directions).item<double>(), 0.0);
        // Token order does not matter (SW compares distributions, not pairs) ...
        const torch::Tensor shuffled = y.reshape({-1, 16}).index_select(0, torch::randperm(48)).reshape(y.sizes());
        QVERIFY(core::slicedWassersteinLoss(shuffled, y, directions).item<double>() < 1e-12);
        QVERIFY(core::mseLoss(shuffled, y).item<double>() > 0.1); // ... which is why MSE stays in the sum
        // Any change of distribution is seen, and SW is symmetric.
        const torch::Tensor other = y + 0.01 * randomOutputs(6);
        const double forward = core::slicedWassersteinLoss(other, y, directions).item<double>();
        QVERIFY(forward > 0.0);
        QVERIFY(std::abs(forward - core::slicedWassersteinLoss(y, other, directions).item<double>()) < 1e-12);
    }

    void gradientsMatchFiniteDifferences_data()
    {
        QTest::addColumn<QString>("loss");
        for (const char* name : {"mse", "l2", "sw1", "sw2", "nlc", "kl_top"})
            QTest::newRow(name) << QString(name);
    }

    void gradientsMatchFiniteDifferences()
    {
        QFETCH(QString, loss);
        const torch::Tensor target = randomOutputs(7);
        const torch::Tensor start = target + 0.3 * randomOutputs(8);
        const torch::Tensor directions = core::randomUnitDirections(8, 16, 5).to(torch::kFloat64);
        LossFunction f;
        if (loss == "mse")
            f = [&](const torch::Tensor& x) { return core::mseLoss(x, target); };
        else if (loss == "l2")
            f = [&](const torch::Tensor& x) { return core::l2Loss(x, target); };
        else if (loss == "sw1")
            f = [&](const torch::Tensor& x) { return core::slicedWassersteinLoss(x, target, directions, 1); };
        else if (loss == "sw2")
            f = [&](const torch::Tensor& x) { return core::slicedWassersteinLoss(x, target, directions, 2); };
        else if (loss == "nlc")
            f = [&](const torch::Tensor& x) { return core::nlcLoss(x, target); };
        else
            f = [&](const torch::Tensor& x) { return core::klTopLoss(x, target, 5); };
        const double error = gradientError(f, start);
        QVERIFY2(error < 1e-5, qPrintable(QString("relative gradient error %1").arg(error)));
    }

    void klTopIsTheFullKlWhenKCoversTheVocabulary()
    {
        const torch::Tensor p = randomOutputs(9, {3, 5, 10}), q = randomOutputs(10, {3, 5, 10});
        const torch::Tensor logP = torch::log_softmax(p, -1), logQ = torch::log_softmax(q, -1);
        const double full = (logP.exp() * (logP - logQ)).sum(-1).mean().item<double>();
        QVERIFY(std::abs(core::klTopLoss(q, p, 10).item<double>() - full) < 1e-12);
        // Fewer logits: the same terms, summed over the target's three largest logits only
        // (not renormalized), and zero for identical logits.
        const torch::Tensor top = std::get<1>(torch::topk(p, 3, -1));
        const torch::Tensor terms = logP.exp() * (logP - logQ);
        const double expected = terms.gather(-1, top).sum(-1).mean().item<double>();
        QVERIFY(std::abs(core::klTopLoss(q, p, 3).item<double>() - expected) < 1e-12);
        QVERIFY(std::abs(core::klTopLoss(p, p, 3).item<double>()) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::klTopLoss(q, p, 11));
    }

    void compositeLossIsTheWeightedSumAndReproducible()
    {
        const torch::Tensor target = randomOutputs(11).to(torch::kFloat32), prediction = target + 0.1;
        core::CompositeLoss loss(
            {core::LossTerm{core::LossType::Mse, 0.9}, core::LossTerm{core::LossType::SlicedWasserstein, 0.1, 64, 1}},
            42);
        QCOMPARE(loss.termNames(), (std::vector<std::string>{"mse", "sw"}));
        const auto a = loss.evaluate(prediction, target, 2, 7);
        QCOMPARE(a.terms.size(), std::size_t(2));
        QVERIFY(std::abs(a.total.item<double>() - (0.9 * a.terms[0] + 0.1 * a.terms[1])) < 1e-6);
        // Same run seed, block and step: the same directions; another step: others.
        QCOMPARE(loss.evaluate(prediction, target, 2, 7).terms[1], a.terms[1]);
        const torch::Tensor noisy = target + 0.3 * torch::randn_like(target);
        QVERIFY(loss.evaluate(noisy, target, 2, 7).terms[1] != loss.evaluate(noisy, target, 2, 8).terms[1]);
        QVERIFY(core::stepSeed(42, 2, 7) != core::stepSeed(42, 7, 2));
        // kl_top needs an output head.
        core::CompositeLoss kl({core::LossTerm{core::LossType::KlTop, 1.0, 128, 1, 4}}, 0);
        QVERIFY_THROWS_EXCEPTION(core::Error, kl.evaluate(prediction, target, 0, 0));
        kl.setLogitHead([](const torch::Tensor& h) { return h * 2.0; });
        QVERIFY(kl.evaluate(prediction, target, 0, 0).terms[0] >= 0.0);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::CompositeLoss({}, 0));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::lossTypeFromName("huber"));
    }
};

QTEST_APPLESS_MAIN(TestLosses)
#include "test_losses.moc"
