// Perplexity convention (METHODS.md §10.1): a uniform model scores exactly the
// vocabulary size; windows are floor(tokens / seq_len); the number equals the
// mean of per-window mean NLLs computed by hand; batching does not change it.

#include "eval/perplexity.h"
#include "jobs/runtime.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/openblas_core.h"

#include <QtTest>

#include <cmath>
#include <filesystem>

class TestPerplexity : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    std::vector<std::int64_t> m_ids;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("ppl");
        testsupport::writeTinyModel(m_dir + "/random", {});
        auto tensors = testsupport::writeTinyModel(m_dir + "/uniform", {});
        tensors["lm_head.weight"].zero_(); // every logit 0 → uniform next-token distribution
        core::writeSafetensors(m_dir + "/uniform/model.safetensors", tensors);
        torch::manual_seed(5);
        const torch::Tensor ids = torch::randint(0, 97, {203});
        m_ids.assign(ids.data_ptr<std::int64_t>(), ids.data_ptr<std::int64_t>() + ids.numel());
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void uniformModelScoresVocabularySize()
    {
        const core::DecoderModel model(m_dir + "/uniform");
        core::PerplexityOptions options;
        options.seqLen = 32;
        const auto result = core::evaluatePerplexity(model, m_ids, options);
        QCOMPARE(result.windows, std::int64_t(203 / 32));
        QCOMPARE(result.tokens, std::int64_t(203));
        QVERIFY(std::abs(result.perplexity - 97.0) < 1e-3);
    }

    void matchesHandComputedWindows()
    {
        const core::DecoderModel model(m_dir + "/random");
        const std::int64_t L = 40;
        double sumOfWindowMeans = 0;
        const std::int64_t windows = 203 / L;
        for (std::int64_t wi = 0; wi < windows; ++wi) {
            const torch::Tensor window =
                torch::tensor(std::vector<std::int64_t>(m_ids.begin() + wi * L, m_ids.begin() + (wi + 1) * L));
            const torch::Tensor logits = model.forward(window.unsqueeze(0))[0];
            const torch::Tensor logProbs = torch::log_softmax(logits.to(torch::kFloat64), -1);
            double nll = 0;
            for (std::int64_t t = 0; t + 1 < L; ++t)
                nll -= logProbs[t][window[t + 1].item<std::int64_t>()].item<double>();
            sumOfWindowMeans += nll / static_cast<double>(L - 1);
        }
        const double expected = std::exp(sumOfWindowMeans / static_cast<double>(windows));
        for (std::int64_t batch : {1, 2, 0}) {
            core::PerplexityOptions options;
            options.seqLen = L;
            options.batchSize = batch;
            const auto result = core::evaluatePerplexity(model, m_ids, options);
            QVERIFY2(std::abs(result.perplexity - expected) / expected < 1e-5,
                     qPrintable(QString("%1 vs %2").arg(result.perplexity).arg(expected)));
        }
    }

    void attentionChunksGiveTheSameResult()
    {
        // Two windows of 1024 tokens: their attention scores exceed one 8 MB chunk, so the
        // batch is attended window by window; each window must come out as when run alone (up to
        // float rounding: the Linears' GEMMs see 2048 rows instead of 1024).
        torch::NoGradGuard noGrad;
        const core::DecoderModel model(m_dir + "/random");
        QVERIFY(model.config().numHeads * 1024 * 1024 * 4 >= 8 * 1024 * 1024);
        torch::manual_seed(3);
        const torch::Tensor ids = torch::randint(0, model.config().vocabSize, {2, 1024}, torch::kInt64);
        const torch::Tensor together = model.forward(ids);
        for (std::int64_t row = 0; row < 2; ++row) {
            const torch::Tensor alone = model.forward(ids.narrow(0, row, 1))[0];
            QVERIFY2(torch::allclose(together[row], alone, 1e-4, 1e-5),
                     qPrintable(QString::number((together[row] - alone).abs().max().item<double>())));
        }
    }

    void defaultBatchKeepsActivationsCacheSized()
    {
        // 8 MB of MLP activations per batch at most (at least one window), 16 windows at most,
        // and the logits' 512 MB budget still applies.
        core::ModelConfig c;
        c.hiddenSize = 256;
        c.intermediateSize = 768;
        c.vocabSize = 2048;
        QCOMPARE(core::defaultEvalBatchWindows(c, 512), std::int64_t(5)); // 8 MB / (512·768·4 B)
        c.intermediateSize = 172;
        c.hiddenSize = 64;
        QCOMPARE(core::defaultEvalBatchWindows(c, 512), std::int64_t(16));
        c.intermediateSize = 11008;
        c.hiddenSize = 4096;
        c.vocabSize = 32000;
        QCOMPARE(core::defaultEvalBatchWindows(c, 2048), std::int64_t(1));
        c.intermediateSize = 16;
        c.hiddenSize = 16;
        c.vocabSize = 256000; // 2·4·512·256000 B = 1 GB of logits per window
        QCOMPARE(core::defaultEvalBatchWindows(c, 512), std::int64_t(1));
    }

    void openBlasFallbackIsCorrected()
    {
        core::CpuVectorFeatures avx512{true, true, true}, avx2{true, true, false}, avxOnly{true, false, false};
        QCOMPARE(core::openBlasCoreCorrection("Prescott", avx512), std::string("SkylakeX"));
        QCOMPARE(core::openBlasCoreCorrection("PRESCOTT", avx2), std::string("Haswell"));
        QCOMPARE(core::openBlasCoreCorrection("Nehalem", avxOnly), std::string("SandyBridge"));
        QCOMPARE(core::openBlasCoreCorrection("Prescott", core::CpuVectorFeatures{}), std::string());
        // A specific choice stands, even where the CPU could run wider kernels.
        QCOMPARE(core::openBlasCoreCorrection("Haswell", avx512), std::string());
        QCOMPARE(core::openBlasCoreCorrection("Zen", avx512), std::string());
        QCOMPARE(core::openBlasCoreCorrection("", avx512), std::string());
        // This process (re-executed by support/test_environment.cpp where needed) runs on
        // kernels that fit the CPU.
        QVERIFY2(core::openBlasCoreCorrection(core::blasCoreName(), core::cpuVectorFeatures()).empty(),
                 core::blasCoreName().c_str());
    }

    void maxWindowsLimits()
    {
        const core::DecoderModel model(m_dir + "/random");
        core::PerplexityOptions options;
        options.seqLen = 16;
        options.maxWindows = 3;
        QCOMPARE(core::evaluatePerplexity(model, m_ids, options).windows, std::int64_t(3));
    }

    void textShorterThanOneWindow()
    {
        const core::DecoderModel model(m_dir + "/random");
        core::PerplexityOptions options;
        options.seqLen = 64;
        try {
            core::evaluatePerplexity(model, std::vector<std::int64_t>(m_ids.begin(), m_ids.begin() + 50), options);
            QFAIL("short text accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("fewer than one window"), e.what());
        }
    }

    void cancelStopsTheRun()
    {
        const core::DecoderModel model(m_dir + "/random");
        core::CancelToken cancel;
        int events = 0;
        const auto progress = [&](const core::ProgressEvent&) {
            if (++events == 2)
                cancel.requestCancel();
        };
        core::PerplexityOptions options;
        options.seqLen = 16;
        options.batchSize = 1;
        QVERIFY_THROWS_EXCEPTION(core::Cancelled, core::evaluatePerplexity(model, m_ids, options, progress, cancel));
        QCOMPARE(events, 2); // the next block step noticed the cancel
    }
};

QTEST_GUILESS_MAIN(TestPerplexity)
#include "test_perplexity.moc"
