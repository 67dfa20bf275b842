// OSTQuant (issue 17; METHODS.md §7): Hadamard matrices, the clipped weight grid, RMSNorm fusion,
// the transforms' exact equivalence, the Stiefel optimizer, the logit losses against hand
// computations, QSUR under a Hadamard rotation, and whole runs (W4A16 with its export,
// W4A4KV4 with the online rotations).

#include "calib/ost_training.h"
#include "calib/riemannian_adam.h"
#include "jobs/calibrate_job.h"
#include "jobs/export_job.h"
#include "metrics/qsur.h"
#include "model/decoder_model.h"
#include "model/norm_fusion.h"
#include "model/online_rotation.h"
#include "model/weight_layout.h"
#include "quant/clipped_grid.h"
#include "quant/hadamard.h"
#include "small_run.h"
#include "store/loss_curve_artifacts.h"
#include "store/run_artifacts.h"
#include "store/workspace.h"
#include "tiny_models.h"
#include "util/text_file.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace {

double maxAbsDifference(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

double metricOf(const core::Catalog& catalog, std::int64_t runId, const std::string& layer, const std::string& name)
{
    for (const auto& metric : catalog.layerMetrics(runId))
        if (metric.layer == layer && metric.metric == name)
            return metric.value;
    throw core::Error("no metric " + name + " for " + layer);
}

// Random positive scalings and random rotations: the transforms are exact for any values.
void perturb(core::OstTransforms& t, std::uint64_t seed)
{
    torch::manual_seed(static_cast<std::int64_t>(seed));
    if (t.residual.defined())
        t.residual = core::randomOrthogonal(t.residual.size(0), seed).to(torch::kFloat32);
    for (torch::Tensor& r : t.valueOutput)
        for (std::int64_t h = 0; h < r.size(0); ++h)
            r[h].copy_(core::randomOrthogonal(r.size(1), seed + 1 + static_cast<std::uint64_t>(h)));
    for (core::OstLayerScales& s : t.scales)
        for (torch::Tensor* v : {&s.normQkv, &s.normUpGate, &s.queryKey, &s.valueOut, &s.upDown})
            *v = torch::exp(0.5 * torch::randn(v->sizes()));
}

} // namespace

class TestOstQuant : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    testsupport::SmallRunFiles m_files;

    // The FP logits of the tiny model and the pieces of its fused form.
    struct Fused {
        std::vector<core::BlockWeights> blocks;
        core::GlobalWeights globals;
    };
    static Fused fuse(const core::DecoderModel& model)
    {
        Fused fused;
        for (std::int64_t i = 0; i < model.numBlocks(); ++i)
            fused.blocks.push_back(core::fuseBlockNorms(model.config(), model.block(i)));
        fused.globals = core::fuseFinalNorm(model.config(), model.globals());
        return fused;
    }
    static torch::Tensor sampleIds(const core::ModelConfig& config)
    {
        torch::manual_seed(5);
        return torch::randint(0, config.vocabSize, {3, 24}, torch::kInt64);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("ostquant");
        m_files = testsupport::writeSmallRunFiles(m_dir, 4);
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void hadamardMatricesAreOrthogonal()
    {
        for (std::int64_t n : {1, 2, 4, 8, 12, 20, 24, 44, 48, 80, 128, 384}) {
            const torch::Tensor h = core::hadamardMatrix(n);
            QVERIFY2(h.defined(), std::to_string(n).c_str());
            QVERIFY(core::orthogonalityError(h) < 1e-12);
            // Entries ±1/√n: a Hadamard matrix, not just an orthogonal one.
            QVERIFY(maxAbsDifference(h.abs(), torch::full_like(h, 1.0 / std::sqrt(double(n)))) < 1e-15);
        }
        for (std::int64_t n : {3, 6, 172}) // 172 = 4·43: no Paley order divides it to a power of two
            QVERIFY(!core::hadamardMatrix(n).defined());
        const core::OrthogonalMatrix fallback = core::onlineRotation(6);
        QCOMPARE(fallback.kind, std::string("random orthogonal"));
        QVERIFY(core::orthogonalityError(fallback.matrix) < 1e-12);
        const core::OrthogonalMatrix a = core::randomHadamard(48, 7), b = core::randomHadamard(48, 7);
        QCOMPARE(a.kind, std::string("random hadamard"));
        QVERIFY(torch::equal(a.matrix, b.matrix));
        QVERIFY(!torch::equal(a.matrix, core::randomHadamard(48, 8).matrix));
        QVERIFY(core::orthogonalityError(a.matrix) < 1e-12);
    }

    void clippedGridFollowsTheReference()
    {
        // One row, 4 bits symmetric: scale = max(−min/8, max/7) on levels −8..7.
        const torch::Tensor row = torch::tensor({0.9f, -0.3f, 0.1f, 0.05f, -0.02f, 0.6f}).unsqueeze(0);
        core::ClipSearch off;
        off.enabled = false;
        const core::QuantGrid plain = core::fitClippedGrid(row, 4, true, off);
        QCOMPARE(plain.scale.item<float>(), std::max(0.3f / 8.0f, 0.9f / 7.0f));
        QCOMPARE(plain.zero.item<float>(), 8.0f);
        // The search by hand: the first p in 1, 0.99, ..., 0.21 with the least Σ|Q(w) − w|^2.4.
        const double w[] = {0.9, -0.3, 0.1, 0.05, -0.02, 0.6};
        double bestError = INFINITY, bestScale = 0;
        for (int i = 0; i < 80; ++i) {
            const double p = 1.0 - i / 100.0;
            const float scale = std::max(float(-0.3 * p) / -8.0f, std::max(float(0.9 * p), 1e-6f) / 7.0f);
            double error = 0;
            for (double x : w) {
                const double q = scale * std::clamp(std::nearbyint(float(x) / scale), -8.0f, 7.0f);
                error += std::pow(std::abs(q - float(x)), 2.4);
            }
            if (error < bestError)
                bestError = error, bestScale = scale;
        }
        const core::QuantGrid searched = core::fitClippedGrid(row, 4, true);
        QVERIFY(std::abs(searched.scale.item<float>() - bestScale) < 1e-7);
        QVERIFY(searched.scale.item<float>() < plain.scale.item<float>()); // the search clips here
    }

    void normFusionKeepsTheLogits()
    {
        testsupport::TinyModelSpec spec;
        writeTinyModel(m_dir + "/fusion", spec);
        const core::DecoderModel model(m_dir + "/fusion");
        const torch::Tensor ids = sampleIds(model.config());
        const torch::Tensor reference = model.forward(ids);
        const Fused fused = fuse(model);
        QVERIFY(!torch::allclose(model.block(0).at("input_layernorm.weight"),
                                 torch::ones_like(model.block(0).at("input_layernorm.weight"))));
        const core::AttentionContext attention(model.config(), ids.size(1), torch::kCPU);
        torch::Tensor hidden = core::embedTokens(model.config(), fused.globals, ids);
        for (std::int64_t i = 0; i < model.numBlocks(); ++i) {
            const auto& block = fused.blocks[static_cast<std::size_t>(i)];
            QVERIFY(torch::equal(block.at("post_attention_layernorm.weight"),
                                 torch::ones_like(block.at("post_attention_layernorm.weight"))));
            hidden = core::decoderBlock(model.config(), block, hidden, attention, core::blockPrefix(model.config(), i));
        }
        QVERIFY(maxAbsDifference(core::outputLogits(model.config(), fused.globals, hidden), reference) < 1e-5);
    }

    void transformsAreExactEquivalences()
    {
        testsupport::TinyModelSpec spec; // hidden 48 = 12·4, intermediate 80 = 20·4, head 8
        writeTinyModel(m_dir + "/equivalence", spec);
        const core::DecoderModel model(m_dir + "/equivalence");
        const core::ModelConfig& config = model.config();
        const torch::Tensor ids = sampleIds(config);
        const torch::Tensor reference = model.forward(ids);
        const Fused fused = fuse(model);
        const core::AttentionContext attention(config, ids.size(1), torch::kCPU);
        core::OstTransformLayout layout;
        layout.onlineQueryKeyRotation = true;
        for (const auto init : {core::OstRotationInit::RandomHadamard, core::OstRotationInit::Klt}) {
            core::OstTransforms transforms = core::initialOstTransforms(config, fused.blocks, layout, init, 11);
            QCOMPARE(transforms.downRotationKind, std::string("hadamard"));
            QVERIFY(core::orthogonalityError(transforms.residual) < 1e-5);
            const core::OstTrainingOptions plain; // no weight fake-quant, no hooks
            const torch::Tensor atInit = core::transformedLogits(config, fused.blocks, fused.globals, transforms, ids,
                                                                 attention, nullptr, plain);
            const double scale = reference.abs().max().item<double>();
            QVERIFY2(maxAbsDifference(atInit, reference) < 1e-5 * scale,
                     (std::to_string(maxAbsDifference(atInit, reference)) + " of " + std::to_string(scale)).c_str());
            // Any rotation and any positive scaling: still the FP function (the folded form too).
            perturb(transforms, 3);
            const torch::Tensor perturbed = core::transformedLogits(config, fused.blocks, fused.globals, transforms,
                                                                    ids, attention, nullptr, plain);
            QVERIFY2(maxAbsDifference(perturbed, reference) < 1e-5 * scale,
                     std::to_string(maxAbsDifference(perturbed, reference)).c_str());
            torch::Tensor hidden =
                core::embedTokens(config, core::transformedGlobals(fused.globals, transforms, torch::kFloat64), ids);
            for (std::int64_t i = 0; i < config.numLayers; ++i) {
                const core::BlockWeights block = core::transformedBlock(
                    config, fused.blocks[static_cast<std::size_t>(i)], i, transforms, torch::kFloat64);
                QVERIFY(block.tensors.count(core::kDownProjInputRotation) &&
                        block.tensors.count(core::kQueryKeyRotation));
                hidden = core::decoderBlock(config, block, hidden, attention, core::blockPrefix(config, i));
            }
            const torch::Tensor folded = core::outputLogits(
                config, core::transformedGlobals(fused.globals, transforms, torch::kFloat64), hidden);
            QVERIFY(maxAbsDifference(folded, reference) < 1e-5 * scale);
        }
    }

    void riemannianAdamStaysOnTheManifold()
    {
        torch::Tensor rotation = core::randomOrthogonal(16, 1).to(torch::kFloat32);
        torch::Tensor batched =
            torch::stack({core::randomOrthogonal(8, 2), core::randomOrthogonal(8, 3)}).to(torch::kFloat32);
        torch::Tensor scale = torch::ones({16});
        rotation.requires_grad_(true);
        batched.requires_grad_(true);
        scale.requires_grad_(true);
        const torch::Tensor target = core::randomOrthogonal(16, 9).to(torch::kFloat32);
        core::RiemannianAdam optimizer({rotation, batched}, {scale});
        const auto loss = [&] { return (rotation * scale.unsqueeze(0) - target).pow(2).sum() + batched.sum(); };
        const double before = loss().item<double>();
        for (int step = 0; step < 60; ++step) {
            rotation.mutable_grad() = torch::Tensor();
            batched.mutable_grad() = torch::Tensor();
            scale.mutable_grad() = torch::Tensor();
            loss().backward();
            optimizer.step(0.05, 0.01);
            QVERIFY(core::orthogonalityError(rotation) < 1e-5);
            QVERIFY(core::orthogonalityError(batched[0]) < 1e-5 && core::orthogonalityError(batched[1]) < 1e-5);
        }
        QVERIFY(loss().item<double>() < 0.5 * before);
        // Gradient clipping as torch.nn.utils.clip_grad_norm_: total norm 5 → scaled to 1.
        torch::Tensor a = torch::zeros({2}, torch::requires_grad());
        a.mutable_grad() = torch::tensor({3.0f, 4.0f});
        QCOMPARE(core::clipGradientNorm({a}, 1.0), 5.0);
        QVERIFY(std::abs(a.grad().norm().item<double>() - 5.0 / (5.0 + 1e-6)) < 1e-6);
    }

    void logitLossesMatchHandComputations()
    {
        const torch::Tensor teacher = torch::tensor({2.0f, 1.0f, 0.0f, -1.0f, 0.5f}).view({1, 1, 5});
        const torch::Tensor student = torch::tensor({1.5f, 1.2f, 0.1f, -0.5f, 0.0f}).view({1, 1, 5});
        const double zt[] = {2.0, 1.0, 0.0, -1.0, 0.5}, zs[] = {1.5, 1.2, 0.1, -0.5, 0.0};
        double sumT = 0, sumS = 0;
        for (int v = 0; v < 5; ++v)
            sumT += std::exp(zt[v]), sumS += std::exp(zs[v]);
        const auto p = [&](int v) { return std::exp(zt[v]) / sumT; };
        const auto logQ = [&](int v) { return zs[v] - std::log(sumS); };
        // KL-Top, k = 2: the teacher's two largest logits (0 and 1), p from the full softmax.
        const double klTop = p(0) * (std::log(p(0)) - logQ(0)) + p(1) * (std::log(p(1)) - logQ(1));
        double kl = 0;
        for (int v = 0; v < 5; ++v)
            kl += p(v) * (std::log(p(v)) - logQ(v));
        core::OstTrainingOptions options;
        options.topK = 2;
        options.loss = core::OstLoss::KlTop;
        const torch::Tensor ids = torch::zeros({1, 1}, torch::kInt64);
        QVERIFY(std::abs(core::ostLoss(student, teacher, ids, options).item<double>() - klTop) < 1e-6);
        options.loss = core::OstLoss::Kl;
        QVERIFY(std::abs(core::ostLoss(student, teacher, ids, options).item<double>() - kl) < 1e-6);
    }

    void qsurRisesUnderAHadamard()
    {
        // Independent channels of unequal spread (one outlier channel): after a Hadamard every
        // Σ_jj equals mean(λ) (METHODS.md §7.1: (HᵀΣH)_jj = Σ_i H_ij² λ_i = mean λ), so the
        // enclosing cube shrinks while the ellipsoid's volume stays, and QSUR rises.
        torch::manual_seed(2);
        const std::int64_t d = 16;
        torch::Tensor spread = torch::ones({d});
        spread[3] = 12.0;
        const torch::Tensor x = torch::randn({20000, d}, torch::kFloat64) * spread.to(torch::kFloat64);
        const torch::Tensor h = core::hadamardMatrix(d);
        const core::QsurResult before = core::qsur(x);
        const core::QsurResult after = core::qsur(torch::matmul(x, h));
        QVERIFY(after.log10Qsur > before.log10Qsur + 1.0);
        const torch::Tensor covariance = torch::diag(spread.to(torch::kFloat64).pow(2));
        const torch::Tensor rotated = torch::matmul(torch::matmul(h.t(), covariance), h);
        QVERIFY(maxAbsDifference(rotated.diagonal(), torch::full({d}, covariance.diagonal().mean().item<double>())) <
                1e-12);
        QVERIFY(maxAbsDifference(after.diagonal, torch::ones({d}, torch::kFloat64)) < 0.05);
    }

    void weightOnlyRunTrainsFoldsAndExportsExactly()
    {
        core::Workspace workspace(m_dir + "/ws-w4a16");
        core::RunConfig config = testsupport::smallRunConfig(m_files, "ostquant");
        config.weights.bits = 4;
        config.weights.groupSize = -1;
        config.weights.symmetric = true;
        config.options.set("steps", std::int64_t(4));
        config.options.set("train_batch", std::int64_t(2));
        std::vector<core::ProgressEvent> events;
        const core::CalibrationJobResult run =
            core::runCalibrationJob(workspace, config, [&](const core::ProgressEvent& e) { events.push_back(e); });
        const double perplexity = run.datasets[0].perplexity;
        QVERIFY(std::isfinite(perplexity) && perplexity > 1.0);
        // The training's steps move the calibration's progress (they are most of it), which never
        // goes back when the block loop starts.
        std::vector<double> trainingFractions;
        double previous = 0.0;
        for (const core::ProgressEvent& event : events) {
            if (event.stage != "calibrate")
                continue;
            QVERIFY2(event.fraction >= previous, event.message.c_str());
            previous = event.fraction;
            if (event.message.find("prepare: training step") != std::string::npos)
                trainingFractions.push_back(event.fraction);
        }
        QCOMPARE(trainingFractions.size(), std::size_t(4));
        QVERIFY(trainingFractions.back() - trainingFractions.front() > 0.3);
        const core::Catalog& catalog = workspace.catalog();
        QVERIFY(metricOf(catalog, run.runId, "model", "orth_error_max") < 1e-4);
        QCOMPARE(metricOf(catalog, run.runId, "model", "train_steps"), 4.0);
        QCOMPARE(metricOf(catalog, run.runId, "model", "train_top_k"), 8.0); // 264 · 1000/32000 ≈ 8
        const core::ArtifactFile artifacts(workspace.artifactPath(run.runId), core::ArtifactMode::ReadOnly);
        const auto curve = core::readLossCurve(artifacts, "model");
        QVERIFY(curve && curve->steps.size() == 4);
        QCOMPARE(curve->terms.front(), std::string("kl_top"));
        const auto folded = core::readFoldedTensors(artifacts);
        QVERIFY(folded.count("model.layers.1.mlp.down_proj.input_rotation"));
        QVERIFY(folded.count("model.embed_tokens.weight") && folded.count("lm_head.weight"));

        // Export folds the online rotation: a plain HF model with the run's perplexity, exactly.
        const std::string out = m_dir + "/exported-w4a16";
        core::exportRun(workspace, run.runId, out);
        const auto quantization = nlohmann::json::parse(core::readTextFile(out + "/quantization.json"));
        QVERIFY(quantization["online_rotations"].empty());
        QCOMPARE(testsupport::perplexityOfDirectory(out, m_files.evalText, 32), perplexity);
    }

    void weightActivationKvRunAppliesTheOnlineRotations()
    {
        core::Workspace workspace(m_dir + "/ws-w4a4kv4");
        core::RunConfig config = testsupport::smallRunConfig(m_files, "ostquant");
        config.weights.bits = 4;
        config.weights.groupSize = -1;
        config.weights.symmetric = true;
        config.activations.bits = 4;
        config.kv.bits = 4;
        config.options.set("steps", std::int64_t(2));
        config.options.set("train_batch", std::int64_t(2));
        config.options.set("init", std::string("klt"));
        const core::CalibrationJobResult run = core::runCalibrationJob(workspace, config);
        QVERIFY(std::isfinite(run.datasets[0].perplexity));
        const core::ArtifactFile artifacts(workspace.artifactPath(run.runId), core::ArtifactMode::ReadOnly);
        const auto folded = core::readFoldedTensors(artifacts);
        QVERIFY(folded.count(std::string("model.layers.0.") + core::kQueryKeyRotation));
        const std::string out = m_dir + "/exported-w4a4kv4";
        core::exportRun(workspace, run.runId, out);
        const auto quantization = nlohmann::json::parse(core::readTextFile(out + "/quantization.json"));
        QCOMPARE(quantization["online_rotations"].size(), std::size_t(4)); // 2 blocks × (down, Q/K)
    }
};

QTEST_GUILESS_MAIN(TestOstQuant)
#include "test_ostquant.moc"
