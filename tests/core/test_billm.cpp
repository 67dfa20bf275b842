// BiLLM (issue 16 §3): residual binarization against a hand computation; billmQuantize against a
// transcription of the reference's block loop and structure search written here
// (experiments/oac/billm-reference-notes.md); the stored codebook form and its bit count; the
// method in the pipeline with both Hessian sources.

#include "calib/billm.h"
#include "calib/block_pipeline.h"
#include "calib/calibration_method.h"
#include "config/run_config.h"
#include "model/decoder_model.h"
#include "quant/storage_bits.h"
#include "tiny_models.h"
#include "util/error.h"

#include <QtTest>

#include <filesystem>
#include <limits>

namespace {

using torch::indexing::Slice;

torch::Tensor rowsOf(std::initializer_list<std::initializer_list<float>> values)
{
    std::vector<torch::Tensor> rows;
    for (const auto& row : values)
        rows.push_back(torch::tensor(std::vector<float>(row)));
    return torch::stack(rows);
}

double mse(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).square().mean().item<double>();
}

struct ReferenceBlock {
    torch::Tensor quantized, salient, sparse;
};

// structural_guassian_distribution + the three binarizations, for one block B with diag(U) d.
ReferenceBlock referenceBlock(const torch::Tensor& B, const torch::Tensor& d)
{
    const std::int64_t rows = B.size(0), width = B.size(1);
    const torch::Tensor T = B.pow(2) / d.reshape({1, -1}).pow(2);
    const std::int64_t limit = std::min<std::int64_t>(50, width);
    const torch::Tensor top = std::get<1>(torch::topk(T.abs().sum(0), limit));
    const auto salientMask = [&](std::int64_t k) {
        torch::Tensor m = torch::zeros({rows, width}, torch::kBool);
        for (std::int64_t i = 0; i < k; ++i)
            m.index_put_({Slice(), top[i].item<std::int64_t>()}, true);
        return m;
    };
    std::int64_t bestK = 0;
    double best = std::numeric_limits<double>::infinity();
    for (std::int64_t k = 1; k < limit; ++k) {
        const torch::Tensor m = salientMask(k);
        const double e = mse(T, core::residualBinarize(T, m, 2) + core::residualBinarize(T, ~m, 2));
        if (e < best) {
            best = e;
            bestK = k;
        }
    }
    const torch::Tensor salient = salientMask(bestK);
    const torch::Tensor g3 = core::residualBinarize(T, salient, 2);
    // numpy.quantile's "linear" method, written out (in float32, as torch.quantile computes it):
    // position p·(n − 1) in the sorted values, interpolated between its two neighbours.
    const torch::Tensor sorted = std::get<0>(torch::sort((T * (~salient)).abs().flatten()));
    const auto n = static_cast<float>(sorted.numel());
    float bestT = 0;
    best = std::numeric_limits<double>::infinity();
    for (int i = 0; i <= 80; ++i) {
        const float p = torch::linspace(0.10, 0.90, 81)[i].item<float>();
        const float position = p * (n - 1.0f);
        const auto lo = static_cast<std::int64_t>(std::floor(position));
        const auto hi = std::min<std::int64_t>(lo + 1, sorted.numel() - 1);
        const float below = sorted[lo].item<float>(), above = sorted[hi].item<float>();
        const float t = below + (position - static_cast<float>(lo)) * (above - below);
        const torch::Tensor big = (~salient) & (T.abs() >= t);
        const torch::Tensor small = (~salient) & (T.abs() < t);
        const double e = mse(T, core::residualBinarize(T, small, 1) + core::residualBinarize(T, big, 1) + g3);
        if (e < best) {
            best = e;
            bestT = t;
        }
    }
    const torch::Tensor sparse = (~salient) & (T.abs() >= bestT);
    const torch::Tensor concentrated = (~salient) & (T.abs() < bestT);
    const torch::Tensor q = core::residualBinarize(B, concentrated, 1) + core::residualBinarize(B, sparse, 1) +
                            core::residualBinarize(B, salient, 2);
    return {q, salient, sparse};
}

struct ReferenceResult {
    torch::Tensor quantized, salient, sparse;
};

// fasterquant: GPTQ's preprocessing, then blocks with no in-block update and lazy feedback.
ReferenceResult referenceBillm(const torch::Tensor& weight, const torch::Tensor& hessian, std::int64_t blockSize)
{
    torch::Tensor W = weight.clone();
    torch::Tensor H = hessian.clone();
    const std::int64_t cols = W.size(1);
    const torch::Tensor dead = H.diagonal() == 0;
    for (std::int64_t j = 0; j < cols; ++j)
        if (dead[j].item<bool>()) {
            H.index_put_({j, j}, 1.0);
            W.index_put_({Slice(), j}, 0.0);
        }
    H = H + torch::eye(cols) * (0.01 * H.diagonal().mean());
    const torch::Tensor U = torch::linalg_cholesky(torch::cholesky_inverse(torch::linalg_cholesky(H)), true);
    ReferenceResult r{torch::zeros_like(W), torch::zeros_like(W, torch::kBool), torch::zeros_like(W, torch::kBool)};
    for (std::int64_t s = 0; s < cols; s += blockSize) {
        const std::int64_t e = std::min(s + blockSize, cols);
        const torch::Tensor B = W.index({Slice(), Slice(s, e)});
        const torch::Tensor d = U.diagonal().index({Slice(s, e)});
        const ReferenceBlock block = referenceBlock(B, d);
        r.quantized.index_put_({Slice(), Slice(s, e)}, block.quantized);
        r.salient.index_put_({Slice(), Slice(s, e)}, block.salient);
        r.sparse.index_put_({Slice(), Slice(s, e)}, block.sparse);
        const torch::Tensor err = (B - block.quantized) / d.reshape({1, -1});
        if (e < cols)
            W.index_put_({Slice(), Slice(e, cols)},
                         W.index({Slice(), Slice(e, cols)}) - err.matmul(U.index({Slice(s, e), Slice(e, cols)})));
    }
    return r;
}

struct Problem {
    torch::Tensor weight, hessian;
};

Problem makeProblem(std::int64_t rows, std::int64_t cols, std::uint64_t seed)
{
    torch::manual_seed(seed);
    Problem p;
    p.weight = torch::randn({rows, cols}) * 0.05;
    p.weight.index_put_({Slice(), Slice(3, 5)}, p.weight.index({Slice(), Slice(3, 5)}) * 8); // two heavy columns
    const torch::Tensor X = torch::randn({512, cols}) * (1 + torch::arange(cols) % 7);
    p.hessian = 2 * X.t().matmul(X) / 512;
    return p;
}

} // namespace

class TestBillm : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void residualBinarizationEqualsAHandComputation()
    {
        const torch::Tensor x = rowsOf({{0, 3, 6, 10}, {-1, -1, 4, 0}});
        const torch::Tensor mask = rowsOf({{1, 1, 1, 0}, {1, 1, 1, 1}}).to(torch::kBool);
        // Row 0: μ = 3, α = mean |{−3, 0, 3}| = 2, sign(0) = 0 keeps the middle weight at μ; the
        // unmasked 10 gives 0. Row 1: μ = 0.5, α = (1.5 + 1.5 + 3.5 + 0.5)/4 = 1.75.
        const torch::Tensor order1 = rowsOf({{1, 3, 5, 0}, {-1.25, -1.25, 2.25, -1.25}});
        QVERIFY(torch::allclose(core::residualBinarize(x, mask, 1), order1, 0, 1e-6));
        // Order 2 binarizes the residual: row 0 {−1, 0, 1}: μ₂ = 0, α₂ = 2/3; row 1
        // {0.25, 0.25, 1.75, 1.25}: μ₂ = 0.875, α₂ = 0.625, adding {0.25, 0.25, 1.5, 1.5}.
        const torch::Tensor order2 = rowsOf({{1.0f / 3.0f, 3, 5.0f + 2.0f / 3.0f, 0}, {-1.0, -1.0, 3.75, 0.25}});
        QVERIFY(torch::allclose(core::residualBinarize(x, mask, 2), order2, 0, 1e-6));
        // An empty row is 0.
        QCOMPARE(core::residualBinarize(x, torch::zeros_like(mask), 2).abs().sum().item<double>(), 0.0);
    }

    void matchesTheReferenceTranscription()
    {
        const Problem p = makeProblem(24, 256, 3);
        const core::BillmResult result = core::billmQuantize(p.weight, p.hessian);
        const ReferenceResult reference = referenceBillm(p.weight, p.hessian, 128);
        QVERIFY(torch::equal(result.salientMask, reference.salient));
        QVERIFY(torch::equal(result.stored.tableIndex == 1, reference.sparse));
        QVERIFY2(torch::allclose(result.quantized, reference.quantized, 0, 1e-6),
                 qPrintable(QString::number((result.quantized - reference.quantized).abs().max().item<double>())));
        QCOMPARE(result.salientColumns.size(), std::size_t(2));
        for (const std::int64_t k : result.salientColumns)
            QVERIFY(k >= 1 && k <= 49);
        // The two heavy columns of the first block are salient.
        QVERIFY(result.salientMask.index({Slice(), Slice(3, 5)}).all().item<bool>());
    }

    void storedCodebookDequantizesExactlyAndCountsItsBits()
    {
        const Problem p = makeProblem(16, 256, 5);
        const core::BillmResult result = core::billmQuantize(p.weight, p.hessian);
        QVERIFY(result.stored.isCodebook());
        QVERIFY(torch::equal(result.stored.dequantize(), result.quantized));
        // Per row and block: 2 bits per weight, four 16-bit (μ, α) pairs; per block a column bitmap.
        const double expected = (16.0 * (2 * 128 + 128) * 2 + 256) / (16.0 * 256);
        QCOMPARE(core::effectiveBitsPerWeight(result.stored), expected);
        QCOMPARE(expected, 3.0625);
        // Within a row and block each part takes at most its levels: order 1 three, order 2 nine.
        QVERIFY(result.stored.codes.max().item<int>() < 9);
        const double signBits = core::billmSignBits(16, 256, result.salientColumns);
        QVERIFY(signBits > 1.0 && signBits < 1.0 + 98.0 / 256.0);
    }

    void badInputIsNamed()
    {
        const Problem p = makeProblem(8, 64, 1);
        core::BillmOptions options;
        options.percentDamp = 0;
        QVERIFY_THROWS_EXCEPTION(core::Error, core::billmQuantize(p.weight, p.hessian, options));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::billmQuantize(p.weight, p.hessian.narrow(0, 0, 32)));
        core::RunConfig config = core::defaultRunConfig("billm");
        config.weights.bits = 2;
        try {
            core::validateRunConfig(config);
            QFAIL("billm must refuse 2 bits");
        } catch (const core::Error& e) {
            QVERIFY(QString(e.what()).contains("weights.bits must be 1"));
        }
    }

    void methodRunsInThePipelineWithBothHessians()
    {
        const std::filesystem::path dir = std::filesystem::temp_directory_path() / "qs_test_billm_model";
        testsupport::TinyModelSpec tiny;
        testsupport::writeTinyModel(dir.string(), tiny);
        torch::manual_seed(0);
        const torch::Tensor ids = torch::randint(tiny.vocab, {4, 16}, torch::kInt64);
        for (const std::string hessian : {"xtx", "oac"}) {
            core::RunConfig config = core::defaultRunConfig("billm");
            config.weights.bits = 1;
            config.options.set("hessian", hessian);
            const auto method = core::createCalibrationMethod(config);
            core::DecoderModel model(dir.string());
            core::PipelineOptions options;
            options.spec = {1, -1, false, core::QuantDialect::Gptq};
            options.batchSize = 2;
            std::int64_t linears = 0;
            options.onBlockFinished = [&](const core::BlockOutcome& block) {
                for (const auto& [layer, linear] : block.stored) {
                    ++linears;
                    QVERIFY(linear.isCodebook());
                    QVERIFY(core::effectiveBitsPerWeight(linear) > 2.9);
                }
            };
            core::runBlockPipeline(model, ids, *method, options);
            QCOMPARE(linears, std::int64_t(7 * tiny.layers));
        }
        std::filesystem::remove_all(dir);
    }
};

QTEST_GUILESS_MAIN(TestBillm)
#include "test_billm.moc"
