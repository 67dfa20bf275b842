// PTQ1.61 (issue 18): the salient mask against hand-picked channels of a hand-made activation and
// against the FP model's statistics computed by hand; the binarized part at init against
// sign(W − μ)·α + μ with μ and α counted by hand; the 4-bit part against the GPTQ-dialect formula;
// the bit count against the formula and the paper's 1.61; the stored form bit for bit through
// the run's HDF5 file; the method in the pipeline (training lowers its loss, refusals).

#include "calib/block_pipeline.h"
#include "calib/calibration_method.h"
#include "calib/channel_statistics.h"
#include "calib/lora.h"
#include "calib/ptq161.h"
#include "config/run_config.h"
#include "jobs/preprocess_job.h"
#include "model/decoder_model.h"
#include "quant/storage_bits.h"
#include "quant/structured_mask.h"
#include "store/artifact_file.h"
#include "store/run_artifacts.h"
#include "store/workspace.h"
#include "small_run.h"
#include "tiny_models.h"
#include "util/error.h"

#include <QtTest>

#include <filesystem>
#include <set>

namespace {

using torch::indexing::Slice;

std::set<std::int64_t> trueIndices(const torch::Tensor& mask)
{
    std::set<std::int64_t> indices;
    for (std::int64_t i = 0; i < mask.numel(); ++i)
        if (mask[i].item<bool>())
            indices.insert(i);
    return indices;
}

// A weight with exact zeros in non-salient columns (excluded from μ and α) and a salient column.
torch::Tensor handWeight()
{
    return torch::tensor({{0.5f, -1.0f, 0.0f, 2.0f, 0.25f}, //
                          {-0.3f, 0.6f, 0.9f, 0.0f, -1.2f}, //
                          {0.0f, 0.0f, 0.0f, 0.7f, 0.0f}}); // only the salient column non-zero
}

} // namespace

class TestPtq161 : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void maskKeepsTheTopChannelsOfAHandMadeActivation()
    {
        // 10 channels; channel magnitudes chosen so that the order is known: max |x| per channel.
        const torch::Tensor x = torch::tensor({{0.1f, -5.0f, 0.2f, 0.3f, 9.0f, 0.0f, 1.0f, -0.5f, 2.0f, 0.4f},
                                               {0.2f, 1.0f, -3.0f, 0.1f, 0.1f, 0.0f, -1.5f, 0.5f, 0.1f, 0.2f}});
        const torch::Tensor absMax = std::get<0>(x.abs().max(0));
        // int(0.2 · 10) + 1 = 3 channels: 9.0 (4), 5.0 (1), 3.0 (2).
        QCOMPARE(trueIndices(core::salientChannels(absMax, 0.2, "t")), (std::set<std::int64_t>{1, 2, 4}));
        // int(0.25 · 10) + 1 = 3 as well; 0 keeps the single largest; 0.5 keeps 6.
        QCOMPARE(trueIndices(core::salientChannels(absMax, 0.25, "t")), (std::set<std::int64_t>{1, 2, 4}));
        QCOMPARE(trueIndices(core::salientChannels(absMax, 0.0, "t")), (std::set<std::int64_t>{4}));
        QCOMPARE(trueIndices(core::salientChannels(absMax, 0.5, "t")), (std::set<std::int64_t>{1, 2, 4, 6, 8, 7}));
        // Ties at the threshold are all kept (statistic ≥ threshold).
        const torch::Tensor tied = torch::tensor({1.0f, 3.0f, 2.0f, 2.0f, 0.5f});
        QCOMPARE(trueIndices(core::salientChannels(tied, 0.2, "t")), (std::set<std::int64_t>{1, 2, 3}));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::salientChannels(absMax, 1.0, "t"));
        QVERIFY_THROWS_EXCEPTION(core::Error,
                                 core::salientChannels(torch::tensor({1.0f, NAN}), 0.2, "model.layers.0.mlp.up_proj"));
    }

    void fpStatisticsAreTheFpModelsLinearInputs()
    {
        // Block 0's q_proj reads RMSNorm(embedding): compute its max and mean |x| by hand.
        const std::string dir = testsupport::makeTempDir("ptq161_stats");
        testsupport::TinyModelSpec tiny;
        testsupport::writeTinyModel(dir, tiny);
        core::DecoderModel model(dir);
        torch::manual_seed(1);
        const torch::Tensor ids = torch::randint(tiny.vocab, {5, 12}, torch::kInt64);
        const core::WeightQuantSpec spec;
        const core::ForwardHooks hooks;
        const core::CancelToken cancel;
        core::ModelContext context(model, ids, spec, hooks, 2, cancel, {});
        const auto statistics = core::fpLinearInputStatistics(context);
        QCOMPARE(statistics.size(), std::size_t(7 * tiny.layers));

        const torch::Tensor e = model.globals().embedTokens.index_select(0, ids.reshape({-1}));
        const torch::Tensor g = model.block(0).at("input_layernorm.weight");
        const torch::Tensor normed = e * torch::rsqrt(e.square().mean(-1, true) + model.config().normEps) * g;
        const core::ChannelStatistics& q = statistics.at("model.layers.0.self_attn.q_proj");
        QVERIFY(torch::allclose(q.absMax, std::get<0>(normed.abs().max(0)), 1e-5, 1e-6));
        QVERIFY(torch::allclose(q.absMean, normed.abs().mean(0), 1e-5, 1e-6));
        // q, k and v read the same input: the same statistics, hence the same mask.
        QVERIFY(torch::equal(q.absMax, statistics.at("model.layers.0.self_attn.v_proj").absMax));
        std::filesystem::remove_all(dir);
    }

    void binaryStatisticsSkipSalientColumnsAndZeros()
    {
        const torch::Tensor w = handWeight();
        const torch::Tensor salient = torch::tensor({false, false, false, true, false});
        const core::BinaryStatistics s = core::binaryStatistics(w, salient);
        // Row 0: non-salient non-zero {0.5, −1, 0.25}; row 1: {−0.3, 0.6, 0.9, −1.2}; row 2: none.
        QVERIFY(torch::allclose(
            s.mean, torch::tensor({(0.5f - 1.0f + 0.25f) / 3.0f, (-0.3f + 0.6f + 0.9f - 1.2f) / 4.0f, 0.0f})));
        QVERIFY(torch::allclose(
            s.scale, torch::tensor({(0.5f + 1.0f + 0.25f) / 3.0f, (0.3f + 0.6f + 0.9f + 1.2f) / 4.0f, 0.0f})));
    }

    void initialWeightsAreRtn4OnSalientAndSignAlphaPlusMuElsewhere()
    {
        torch::manual_seed(3);
        const core::ModelConfig config = [] {
            core::ModelConfig c;
            c.family = core::ModelFamily::Llama;
            return c;
        }();
        core::BlockWeights block;
        std::map<std::string, torch::Tensor> salient;
        for (const std::string name : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                       "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
            block.tensors[name + ".weight"] = torch::randn({6, 10});
            salient[name] = torch::rand({10}) < 0.3;
        }
        block.tensors["self_attn.q_proj.weight"].index_put_({0, 1}, 0.0f); // an exact zero
        const core::StructuredMaskBlockTrainer trainer(config, block, "model.layers.0.", salient, 4, 5e-4, 1e-3);
        const core::BlockWeights quantized = trainer.quantizedBlock();
        for (const auto& [name, mask] : salient) {
            const torch::Tensor w = block.at(name + ".weight");
            const torch::Tensor q = quantized.at(name + ".weight");
            for (std::int64_t r = 0; r < w.size(0); ++r) {
                double sum = 0, magnitude = 0;
                int count = 0;
                for (std::int64_t c = 0; c < w.size(1); ++c) {
                    const double v = w[r][c].item<double>();
                    if (!mask[c].item<bool>() && v != 0.0) {
                        sum += v;
                        magnitude += std::abs(v);
                        ++count;
                    }
                }
                const double mu = sum / count, alpha = magnitude / count;
                // GPTQ dialect over the full row: range forced to contain 0, zero = round(−min/scale).
                const double lo = std::min(0.0, w[r].min().item<double>());
                const double hi = std::max(0.0, w[r].max().item<double>());
                const double scale = (hi - lo) / 15.0, zero = std::round(-lo / scale);
                for (std::int64_t c = 0; c < w.size(1); ++c) {
                    const double v = w[r][c].item<double>();
                    const double expected = mask[c].item<bool>()
                                                ? scale * (std::clamp(std::round(v / scale) + zero, 0.0, 15.0) - zero)
                                                : (v > mu ? 1.0 : (v < mu ? -1.0 : 0.0)) * alpha + mu;
                    QVERIFY2(std::abs(q[r][c].item<double>() - expected) < 1e-5,
                             qPrintable(QString::fromStdString(name) + QString(" [%1, %2]").arg(r).arg(c)));
                }
            }
            // The stored form reproduces the trainer's weight bit for bit.
            QVERIFY(torch::equal(trainer.stored(name).dequantize(), q));
        }
    }

    void bitCountIsTheFormulaAndThePapers161()
    {
        // 4096² at p = 20 %: the authors keep int(0.2 · 4096) + 1 = 820 columns.
        const torch::Tensor statistic = torch::rand({4096}) + 0.1;
        const std::int64_t k = core::salientChannels(statistic, 0.2, "t").sum().item<std::int64_t>();
        QCOMPARE(k, std::int64_t(820));
        const double d = 4096.0;
        const double expected = (d * (820 * 4 + 3276) + d + d * (4 * 16 + 4) + 3276 * 16) / (d * d);
        const double bits = core::structuredMaskBits(4096, 4096, 820, 4) / (d * d);
        QCOMPARE(bits, expected);
        // Codes and mask alone: 1.6008 (the paper's "1.6 + 0.0002"); with every side parameter
        // 1.621; the paper's rounded 1.61 lies between.
        QVERIFY(bits > 1.61 && bits < 1.625);
        QVERIFY((d * (820 * 4 + 3276) + d) / (d * d) < 1.61);

        torch::manual_seed(4);
        const torch::Tensor w = torch::randn({32, 64});
        const torch::Tensor salient = core::salientChannels(torch::rand({64}), 0.2, "t");
        const core::BinaryStatistics s = core::binaryStatistics(w, salient);
        const core::QuantizedLinear stored =
            core::structuredMaskStored(w, salient, 4, s, torch::ones({32}), torch::ones({64}), "t");
        QCOMPARE(core::effectiveBitsPerWeight(stored),
                 core::structuredMaskBits(32, 64, salient.sum().item<std::int64_t>(), 4) / (32.0 * 64.0));
    }

    void storedFormRoundTripsThroughTheRunFile()
    {
        torch::manual_seed(5);
        const torch::Tensor w = torch::randn({8, 24});
        const torch::Tensor salient = core::salientChannels(torch::rand({24}), 0.2, "t");
        core::BinaryStatistics s = core::binaryStatistics(w, salient);
        s.scale = s.scale * 1.3; // as if trained
        const core::QuantizedLinear stored =
            core::structuredMaskStored(w, salient, 4, s, torch::rand({8}) + 0.5, torch::rand({24}) + 0.5, "t");
        const std::string dir = testsupport::makeTempDir("ptq161_store");
        const std::string path = dir + "/run.h5";
        {
            core::ArtifactFile file(path, core::ArtifactMode::Create);
            core::writeQuantizedLinear(file, "model.layers.0.mlp.up_proj", stored);
        }
        const core::ArtifactFile file(path, core::ArtifactMode::ReadOnly);
        const core::QuantizedLinear read = core::readQuantizedLinear(file, "model.layers.0.mlp.up_proj");
        QVERIFY(read.isStructuredMask());
        QVERIFY(torch::equal(read.salientColumns, salient));
        QVERIFY(torch::equal(read.dequantize(), stored.dequantize()));
        QCOMPARE(core::effectiveBitsPerWeight(read), core::effectiveBitsPerWeight(stored));
        std::filesystem::remove_all(dir);
    }

    void methodTrainsInThePipelineAndRefusesOtherBits()
    {
        const std::string dir = testsupport::makeTempDir("ptq161_model");
        testsupport::TinyModelSpec tiny;
        testsupport::writeTinyModel(dir, tiny);
        torch::manual_seed(0);
        const torch::Tensor ids = torch::randint(tiny.vocab, {4, 16}, torch::kInt64);
        core::RunConfig config = core::defaultRunConfig("ptq161");
        config.weights.bits = 1;
        config.weights.groupSize = -1;
        config.options.set("epochs", std::int64_t(6));
        config.options.set("batch_size", std::int64_t(2));
        core::validateRunConfig(config);
        const auto method = core::createCalibrationMethod(config);
        core::DecoderModel model(dir);
        core::PipelineOptions options;
        options.spec = {1, -1, false, core::QuantDialect::Gptq};
        options.batchSize = 2;
        std::int64_t linears = 0;
        options.onBlockFinished = [&](const core::BlockOutcome& block) {
            // The loss curve: 6 epochs × 2 steps, terms mse and nlc plus the total; it falls.
            QCOMPARE(block.lossCurve.steps.size(), std::size_t(12));
            QCOMPARE(block.lossCurve.terms, (std::vector<std::string>{"mse", "nlc"}));
            const double first = block.lossCurve.steps[0].back() + block.lossCurve.steps[1].back();
            const double last = block.lossCurve.steps[10].back() + block.lossCurve.steps[11].back();
            QVERIFY2(last < first, qPrintable(QString("loss %1 → %2").arg(first).arg(last)));
            for (const auto& [layer, linear] : block.stored) {
                ++linears;
                QVERIFY(linear.isStructuredMask());
                // The rank-1 factors moved away from 1.
                QVERIFY((linear.rowScale - 1).abs().max().item<double>() > 0);
                const std::string prefix = "model.layers." + std::to_string(block.blockIndex) + ".";
                QVERIFY(torch::equal(linear.dequantize(), block.quantized.at(layer.substr(prefix.size()) + ".weight")));
            }
        };
        core::runBlockPipeline(model, ids, *method, options);
        QCOMPARE(linears, std::int64_t(7 * tiny.layers));

        for (const auto& [bits, group, message] : std::vector<std::tuple<int, std::int64_t, QString>>{
                 {2, -1, "weights.bits must be 1"}, {1, 128, "weights.group_size must be -1"}}) {
            core::RunConfig bad = config;
            bad.weights.bits = bits;
            bad.weights.groupSize = group;
            try {
                core::validateRunConfig(bad);
                QFAIL("ptq161 must refuse this weight spec");
            } catch (const core::Error& e) {
                QVERIFY2(QString(e.what()).contains(message), e.what());
            }
        }
        std::filesystem::remove_all(dir);
    }

    void loraAdaptersAreExactBeforeTrainingAndWhenMerged()
    {
        const std::string dir = testsupport::makeTempDir("ptq161_lora");
        testsupport::TinyModelSpec tiny;
        testsupport::writeTinyModel(dir, tiny);
        core::DecoderModel model(dir);
        core::LoraConfig config;
        config.rank = 4;
        config.alpha = 8.0;
        core::LoraAdapters adapters(model, config);
        QCOMPARE(adapters.layers().size(), std::size_t(6 * tiny.layers)); // q, k, v, gate, up, down: not o
        torch::manual_seed(7);
        const torch::Tensor ids = torch::randint(tiny.vocab, {2, 12}, torch::kInt64);
        torch::NoGradGuard noGrad;
        const core::ForwardHooks eval = adapters.hooks(false);
        const torch::Tensor plain = model.forward(ids);
        QVERIFY(torch::equal(model.forward(ids, &eval), plain)); // B = 0: the adapter adds exact zeros
        for (const torch::Tensor& p : adapters.parameters())
            if (p.size(1) == config.rank) // B [d_out, r]
                p.normal_(0.0, 0.1);
        const torch::Tensor adapted = model.forward(ids, &eval);
        QVERIFY(!torch::allclose(adapted, plain));
        core::mergeLora(model, adapters);
        QVERIFY2(torch::allclose(model.forward(ids), adapted, 1e-4, 1e-5), "merged W + (α/r)BA = the adapter's path");
        // HF's cosine schedule with linear warm-up.
        config.learningRate = 1e-4;
        config.warmupFraction = 0.1;
        QCOMPARE(core::loraLearningRate(config, 0, 100), 0.0);
        QCOMPARE(core::loraLearningRate(config, 5, 100), 0.5e-4);
        QCOMPARE(core::loraLearningRate(config, 10, 100), 1e-4);
        QVERIFY(std::abs(core::loraLearningRate(config, 55, 100) - 0.5e-4) < 1e-12);
        std::filesystem::remove_all(dir);
    }

    void preprocessingTrainsMergesAndRecalibratesWithAParent()
    {
        const std::string dir = testsupport::makeTempDir("ptq161_preprocess");
        const testsupport::SmallRunFiles files = testsupport::writeSmallRunFiles(dir, 3);
        core::Workspace workspace(dir + "/ws");
        core::RunConfig config = testsupport::smallRunConfig(files, "ptq161");
        config.weights.bits = 1;
        config.weights.groupSize = -1;
        config.options.set("epochs", std::int64_t(1));
        const core::CalibrationJobResult first = core::runCalibrationJob(workspace, config);
        core::PreprocessJobParams params;
        params.parentRunId = first.runId;
        params.lora.rank = 4;
        params.lora.steps = 24;
        params.lora.learningRate = 5e-3;
        params.lora.dropout = 0.0;
        core::PreprocessJobResult result;
        try {
            result = core::runPreprocessJob(workspace, params);
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        QVERIFY(!result.reusedMergedModel);
        QCOMPARE(result.losses.size(), std::size_t(24));
        const double early = (result.losses[0] + result.losses[1] + result.losses[2]) / 3;
        const double late = (result.losses[21] + result.losses[22] + result.losses[23]) / 3;
        QVERIFY2(late < early, qPrintable(QString("LoRA loss %1 → %2").arg(early).arg(late)));
        const core::RunRecord second = workspace.catalog().run(result.second.runId);
        QVERIFY(second.kind == core::RunKind::Preprocessed);
        QCOMPARE(second.parentRunId, first.runId);
        QCOMPARE(second.modelPath, result.mergedModel);
        QVERIFY(std::isfinite(result.second.datasets[0].perplexity));
        // The merged model is Q(W) + (α/r)BA: not the parent's quantized weights any more.
        QVERIFY(std::filesystem::exists(result.mergedModel + "/preprocessing.json"));
        // The same settings again: the merged model is reused, only the second PTQ runs.
        const core::PreprocessJobResult again = core::runPreprocessJob(workspace, params);
        QVERIFY(again.reusedMergedModel && again.losses.empty());
        QCOMPARE(again.mergedModel, result.mergedModel);
        std::filesystem::remove_all(dir);
    }
};

QTEST_GUILESS_MAIN(TestPtq161)
#include "test_ptq161.moc"
