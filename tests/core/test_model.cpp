// LLaMA and OPT decoders against an independent, deliberately naive reference:
// per-position loops in float64, RoPE written as pairwise rotations, explicit
// softmax over the causal prefix. Also: shape checks, sharding, config errors.

#include "model/decoder_model.h"
#include "model/weight_layout.h"
#include "quant/activation_quantizer.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <cmath>
#include <filesystem>

using Tensors = std::map<std::string, torch::Tensor>;

namespace {

torch::Tensor w(const Tensors& t, const std::string& name)
{
    return t.at(name).to(torch::kFloat64);
}

torch::Tensor maybe(const Tensors& t, const std::string& name)
{
    auto it = t.find(name);
    return it == t.end() ? torch::Tensor() : it->second.to(torch::kFloat64);
}

// y = W x + b for one token vector x.
torch::Tensor affine(const torch::Tensor& weight, const torch::Tensor& bias, const torch::Tensor& x)
{
    torch::Tensor y = torch::mv(weight, x);
    return bias.defined() ? y + bias : y;
}

torch::Tensor rotatePairs(const torch::Tensor& x, std::int64_t position, double theta)
{
    const std::int64_t d = x.size(0);
    torch::Tensor out = x.clone();
    for (std::int64_t i = 0; i < d / 2; ++i) {
        const double angle = static_cast<double>(position) * std::pow(theta, -2.0 * i / d);
        const double a = x[i].item<double>();
        const double b = x[i + d / 2].item<double>();
        out[i] = a * std::cos(angle) - b * std::sin(angle);
        out[i + d / 2] = b * std::cos(angle) + a * std::sin(angle);
    }
    return out;
}

// Attention for one sequence: q[t][h], k[t][kvh], v[t][kvh] vectors.
std::vector<torch::Tensor> naiveAttention(const std::vector<std::vector<torch::Tensor>>& q,
                                          const std::vector<std::vector<torch::Tensor>>& k,
                                          const std::vector<std::vector<torch::Tensor>>& v, std::int64_t heads,
                                          std::int64_t kvHeads, double scale)
{
    const std::size_t T = q.size();
    std::vector<torch::Tensor> out(T);
    for (std::size_t t = 0; t < T; ++t) {
        std::vector<torch::Tensor> perHead;
        for (std::int64_t h = 0; h < heads; ++h) {
            const std::int64_t g = h / (heads / kvHeads);
            std::vector<double> scores;
            double maxScore = -1e300;
            for (std::size_t s = 0; s <= t; ++s) {
                scores.push_back(torch::dot(q[t][h], k[s][g]).item<double>() * scale);
                maxScore = std::max(maxScore, scores.back());
            }
            double denom = 0;
            for (double& sc : scores)
                denom += (sc = std::exp(sc - maxScore));
            torch::Tensor acc = torch::zeros_like(v[0][0]);
            for (std::size_t s = 0; s <= t; ++s)
                acc = acc + v[s][g] * (scores[s] / denom);
            perHead.push_back(acc);
        }
        out[t] = torch::cat(perHead);
    }
    return out;
}

torch::Tensor referenceLogits(const core::ModelConfig& c, const Tensors& t, const std::vector<std::int64_t>& ids)
{
    const bool llama = c.family == core::ModelFamily::Llama;
    const auto names = core::globalNames(c);
    const std::int64_t T = static_cast<std::int64_t>(ids.size());
    const std::int64_t d = c.headDim;
    std::vector<torch::Tensor> x(T);
    for (std::int64_t i = 0; i < T; ++i) {
        x[i] = w(t, names.embedTokens)[ids[i]];
        if (!llama)
            x[i] = x[i] + w(t, names.embedPositions)[i + 2];
    }
    auto rms = [&](const torch::Tensor& v, const torch::Tensor& g) {
        return g * v / std::sqrt((v * v).mean().item<double>() + c.normEps);
    };
    auto layerNorm = [&](const torch::Tensor& v, const torch::Tensor& g, const torch::Tensor& b) {
        const double mean = v.mean().item<double>();
        const double var = ((v - mean) * (v - mean)).mean().item<double>();
        return g * (v - mean) / std::sqrt(var + c.normEps) + b;
    };
    for (std::int64_t layer = 0; layer < c.numLayers; ++layer) {
        const std::string p = core::blockPrefix(c, layer);
        std::vector<std::vector<torch::Tensor>> q(T), k(T), v(T);
        for (std::int64_t i = 0; i < T; ++i) {
            const torch::Tensor h =
                llama ? rms(x[i], w(t, p + "input_layernorm.weight"))
                      : layerNorm(x[i], w(t, p + "self_attn_layer_norm.weight"), w(t, p + "self_attn_layer_norm.bias"));
            const torch::Tensor qa =
                affine(w(t, p + "self_attn.q_proj.weight"), maybe(t, p + "self_attn.q_proj.bias"), h);
            const torch::Tensor ka =
                affine(w(t, p + "self_attn.k_proj.weight"), maybe(t, p + "self_attn.k_proj.bias"), h);
            const torch::Tensor va =
                affine(w(t, p + "self_attn.v_proj.weight"), maybe(t, p + "self_attn.v_proj.bias"), h);
            for (std::int64_t hh = 0; hh < c.numHeads; ++hh) {
                torch::Tensor qh = qa.slice(0, hh * d, (hh + 1) * d);
                q[i].push_back(llama ? rotatePairs(qh, i, c.ropeTheta) : qh);
            }
            for (std::int64_t g = 0; g < c.numKvHeads; ++g) {
                torch::Tensor kh = ka.slice(0, g * d, (g + 1) * d);
                k[i].push_back(llama ? rotatePairs(kh, i, c.ropeTheta) : kh);
                v[i].push_back(va.slice(0, g * d, (g + 1) * d));
            }
        }
        const auto context = naiveAttention(q, k, v, c.numHeads, c.numKvHeads, 1.0 / std::sqrt(double(d)));
        const std::string o = llama ? "self_attn.o_proj" : "self_attn.out_proj";
        for (std::int64_t i = 0; i < T; ++i) {
            x[i] = x[i] + affine(w(t, p + o + ".weight"), maybe(t, p + o + ".bias"), context[i]);
            if (llama) {
                const torch::Tensor m = rms(x[i], w(t, p + "post_attention_layernorm.weight"));
                const torch::Tensor gate = affine(w(t, p + "mlp.gate_proj.weight"), {}, m);
                const torch::Tensor up = affine(w(t, p + "mlp.up_proj.weight"), {}, m);
                const torch::Tensor act = gate / (1.0 + torch::exp(-gate)) * up;
                x[i] = x[i] + affine(w(t, p + "mlp.down_proj.weight"), {}, act);
            } else {
                const torch::Tensor m =
                    layerNorm(x[i], w(t, p + "final_layer_norm.weight"), w(t, p + "final_layer_norm.bias"));
                const torch::Tensor hidden =
                    torch::clamp_min(affine(w(t, p + "fc1.weight"), w(t, p + "fc1.bias"), m), 0.0);
                x[i] = x[i] + affine(w(t, p + "fc2.weight"), w(t, p + "fc2.bias"), hidden);
            }
        }
    }
    const torch::Tensor head = names.lmHead.empty() ? w(t, names.embedTokens) : w(t, names.lmHead);
    std::vector<torch::Tensor> logits;
    for (std::int64_t i = 0; i < T; ++i) {
        const torch::Tensor n = llama ? rms(x[i], w(t, names.finalNormWeight))
                                      : layerNorm(x[i], w(t, names.finalNormWeight), w(t, names.finalNormBias));
        logits.push_back(torch::mv(head, n));
    }
    return torch::stack(logits);
}

} // namespace

class TestModel : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase() { m_dir = testsupport::makeTempDir("model"); }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void logitsMatchNaiveReference_data()
    {
        QTest::addColumn<int>("family");
        QTest::addColumn<int>("storage");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<bool>("tied");
        QTest::addColumn<bool>("bias");
        using F = core::ModelFamily;
        using S = core::StorageType;
        QTest::newRow("llama f32 gqa") << int(F::Llama) << int(S::F32) << 2 << false << false;
        QTest::newRow("llama bf16 gqa3") << int(F::Llama) << int(S::BF16) << 3 << false << false;
        QTest::newRow("llama f16 mha tied bias") << int(F::Llama) << int(S::F16) << 6 << true << true;
        QTest::newRow("opt f32 tied") << int(F::Opt) << int(S::F32) << 6 << true << true;
        QTest::newRow("opt bf16 untied") << int(F::Opt) << int(S::BF16) << 6 << false << true;
    }

    void logitsMatchNaiveReference()
    {
        QFETCH(int, family);
        QFETCH(int, storage);
        QFETCH(int, kvHeads);
        QFETCH(bool, tied);
        QFETCH(bool, bias);
        testsupport::TinyModelSpec spec;
        spec.family = static_cast<core::ModelFamily>(family);
        spec.storage = static_cast<core::StorageType>(storage);
        spec.kvHeads = kvHeads;
        spec.tied = tied;
        spec.bias = bias;
        spec.seed = 7;
        const std::string dir = m_dir + "/" + QTest::currentDataTag();
        const Tensors tensors = testsupport::writeTinyModel(dir, spec);

        const core::DecoderModel model(dir);
        const std::vector<std::int64_t> ids{1, 5, 17, 96, 3, 42, 42, 0, 63, 11, 2};
        const torch::Tensor batch = torch::tensor(ids).unsqueeze(0).repeat({2, 1});
        const torch::Tensor logits = model.forward(batch);
        QCOMPARE(logits.sizes().vec(), (std::vector<std::int64_t>{2, 11, spec.vocab}));
        const torch::Tensor reference = referenceLogits(model.config(), tensors, ids);
        const double error = (logits[1].to(torch::kFloat64) - reference).abs().max().item<double>();
        QVERIFY2(error < 1e-4, qPrintable(QString("max |logit error| = %1").arg(error)));
    }

    void shardedEqualsUnsharded()
    {
        testsupport::TinyModelSpec spec;
        spec.seed = 3;
        testsupport::writeTinyModel(m_dir + "/single", spec);
        spec.shards = 2;
        testsupport::writeTinyModel(m_dir + "/sharded", spec);
        const torch::Tensor ids = torch::randint(0, spec.vocab, {1, 9});
        QVERIFY(torch::equal(core::DecoderModel(m_dir + "/single").forward(ids),
                             core::DecoderModel(m_dir + "/sharded").forward(ids)));
    }

    void observerSeesEveryLinear()
    {
        testsupport::TinyModelSpec spec;
        testsupport::writeTinyModel(m_dir + "/observed", spec);
        const core::DecoderModel model(m_dir + "/observed");
        std::vector<std::string> seen;
        bool shapesOk = true;
        const core::ForwardHooks observer =
            core::observing([&](const std::string& name, const torch::Tensor& in, const torch::Tensor& out) {
                seen.push_back(name);
                shapesOk = shapesOk && in.size(0) == 1 && in.size(1) == 5 && out.size(1) == 5;
            });
        model.forward(torch::randint(0, spec.vocab, {1, 5}), &observer);
        QCOMPARE(seen.size(), std::size_t(spec.layers * 7));
        QCOMPARE(seen.front(), std::string("model.layers.0.self_attn.q_proj"));
        QCOMPARE(seen.back(), std::string("model.layers.1.mlp.down_proj"));
        QVERIFY(shapesOk);
    }

    void forwardHooksCompose()
    {
        testsupport::TinyModelSpec spec;
        testsupport::writeTinyModel(m_dir + "/hooked", spec);
        const core::DecoderModel model(m_dir + "/hooked");
        const core::ModelConfig& config = model.config();
        torch::manual_seed(8);
        const torch::Tensor ids = torch::randint(0, spec.vocab, {2, 6});
        const torch::Tensor plain = model.forward(ids);

        // Identity transforms and two observers at once: the same logits, bit for bit; the
        // observers see every Linear, K and V arrive per KV head after RoPE.
        core::ForwardHooks hooks;
        int linears = 0, secondObserver = 0, keyValueCalls = 0;
        bool kvShapes = true;
        hooks.linearInputs.push_back([](const std::string&, const torch::Tensor& x) { return x; });
        hooks.observers.push_back([&](const std::string&, const torch::Tensor&, const torch::Tensor&) { ++linears; });
        hooks.observers.push_back(
            [&](const std::string&, const torch::Tensor&, const torch::Tensor&) { ++secondObserver; });
        hooks.keyValues.push_back([&](const std::string& prefix, const torch::Tensor& k, const torch::Tensor& v) {
            ++keyValueCalls;
            kvShapes = kvShapes && prefix.starts_with("model.layers.") && k.sizes() == v.sizes() &&
                       k.size(1) == config.numKvHeads && k.size(2) == 6 && k.size(3) == config.headDim;
            return std::make_pair(k, v);
        });
        QVERIFY(torch::equal(model.forward(ids, &hooks), plain));
        QCOMPARE(linears, int(spec.layers * 7));
        QCOMPARE(secondObserver, linears);
        QCOMPARE(keyValueCalls, int(spec.layers));
        QVERIFY(kvShapes);

        // 16-bit activation and KV "quantization" is the identity too; 4 bits is not.
        core::ActivationQuantSpec a16;
        core::KvQuantSpec kv16;
        core::ForwardHooks quantizing;
        quantizing.linearInputs.push_back(
            [&](const std::string&, const torch::Tensor& x) { return core::fakeQuantizeActivations(x, a16); });
        quantizing.keyValues.push_back([&](const std::string&, const torch::Tensor& k, const torch::Tensor& v) {
            return std::make_pair(core::fakeQuantizeKeyValues(k, kv16), core::fakeQuantizeKeyValues(v, kv16));
        });
        QVERIFY(torch::equal(model.forward(ids, &quantizing), plain));
        a16.bits = 4;
        const torch::Tensor a4 = model.forward(ids, &quantizing);
        QVERIFY(!torch::equal(a4, plain));
        // The run's hooks (activations and KV) at 8 bits perturb the logits less than 4 bits do.
        core::ActivationQuantSpec a8;
        a8.bits = 8;
        core::KvQuantSpec kv8;
        kv8.bits = 8;
        QVERIFY(core::streamQuantizationHooks({}, {}).empty());
        const core::ForwardHooks run8 = core::streamQuantizationHooks(a8, kv8);
        QCOMPARE(run8.linearInputs.size(), std::size_t(1));
        QCOMPARE(run8.keyValues.size(), std::size_t(1));
        // The run's hooks quantize a shared input (q/k/v, gate/up) once: the same logits as
        // quantizing it at every Linear.
        core::ForwardHooks everyLinear;
        everyLinear.linearInputs.push_back(
            [&](const std::string&, const torch::Tensor& x) { return core::fakeQuantizeActivations(x, a8); });
        everyLinear.keyValues = run8.keyValues;
        QVERIFY(torch::equal(model.forward(ids, &run8), model.forward(ids, &everyLinear)));
        QVERIFY(torch::equal(model.forward(ids, &run8), model.forward(ids, &run8))); // no state left behind
        const double error8 = (model.forward(ids, &run8) - plain).abs().max().item<double>();
        const double error4 = (a4 - plain).abs().max().item<double>();
        QVERIFY2(error8 > 0.0 && error8 < error4, qPrintable(QString("8 bits %1, 4 bits %2").arg(error8).arg(error4)));
    }

    void badModelsGiveClearErrors_data()
    {
        QTest::addColumn<QString>("configEdit"); // key=value JSON fragment merged into config.json
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing hidden_size") << R"({"hidden_size": null})"
                                             << "missing key 'hidden_size'";
        QTest::newRow("unsupported model_type") << R"({"model_type": "gpt_neox"})"
                                                << "unsupported model_type 'gpt_neox'";
        QTest::newRow("shape mismatch") << R"({"intermediate_size": 96})"
                                        << "config.json implies [96, 48]";
        QTest::newRow("kv heads") << R"({"num_key_value_heads": 4})"
                                  << "num_key_value_heads";
        QTest::newRow("negative size") << R"({"num_hidden_layers": -1})"
                                       << "'num_hidden_layers' must be a positive integer";
        QTest::newRow("rope scaling") << R"({"rope_scaling": {"type": "linear", "factor": 2.0}})"
                                      << "rope_scaling";
        QTest::newRow("too few layers stored") << R"({"num_hidden_layers": 3})"
                                               << "no tensor model.layers.2";
    }

    void badModelsGiveClearErrors()
    {
        QFETCH(QString, configEdit);
        QFETCH(QString, expected);
        const std::string dir = m_dir + "/bad";
        std::filesystem::remove_all(dir);
        testsupport::writeTinyModel(dir, {});
        auto config = nlohmann::json::parse(core::readTextFile(dir + "/config.json"));
        config.merge_patch(nlohmann::json::parse(configEdit.toStdString()));
        // merge_patch deletes keys set to null, which is exactly "missing key".
        core::writeFileAtomically(dir + "/config.json", config.dump());
        try {
            core::DecoderModel model(dir);
            QFAIL("bad model accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains(expected), e.what());
        }
    }

    void nanWeightNamedOnLoad()
    {
        const std::string dir = m_dir + "/nan";
        Tensors tensors = testsupport::writeTinyModel(dir, {});
        tensors["model.layers.1.mlp.up_proj.weight"][0][0] = std::numeric_limits<float>::infinity();
        core::writeSafetensors(dir + "/model.safetensors", tensors);
        const core::DecoderModel model(dir);
        try {
            model.forward(torch::zeros({1, 3}, torch::kInt64));
            QFAIL("Inf weight accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("model.layers.1.mlp.up_proj.weight contains NaN or Inf"), e.what());
        }
    }

    void outOfVocabularyIdsRejected()
    {
        testsupport::writeTinyModel(m_dir + "/vocab", {});
        const core::DecoderModel model(m_dir + "/vocab");
        QVERIFY_THROWS_EXCEPTION(core::Error, model.forward(torch::full({1, 2}, 97, torch::kInt64)));
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
