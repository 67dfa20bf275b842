// The run config: defaults, canonical round trip, and an error naming the key for
// every kind of mistake a user makes in the JSON.

#include "calib/calibration_method.h"
#include "config/method_descriptor.h"
#include "config/method_listing.h"
#include "config/run_config.h"
#include "util/error.h"

#include <QtTest>

#include <nlohmann/json.hpp>

class TestRunConfig : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void onlyMethodIsRequired()
    {
        const core::RunConfig config = core::parseRunConfig(R"({"method": "rtn"})");
        QCOMPARE(config.method, std::string("rtn"));
        QCOMPARE(config.weights.bits, 4);
        QCOMPARE(config.weights.groupSize, std::int64_t(128));
        QCOMPARE(config.weights.symmetric, false);
        QCOMPARE(config.calibration.samples, std::int64_t(128));
        QCOMPARE(config.calibration.seqLen, std::int64_t(0));
        QCOMPARE(config.calibration.seed, std::uint64_t(0));
        QVERIFY(config.eval.texts.empty());
        QVERIFY(config.options.empty()); // RTN has no options
        QCOMPARE(core::runDisplayName(config), std::string("rtn w4g128"));
    }

    void gptqGetsItsSectionWithDefaults()
    {
        const core::RunConfig config = core::parseRunConfig(R"({"method": "gptq", "gptq": {"act_order": true}})");
        QCOMPARE(config.options.integer("block_size"), std::int64_t(128));
        QCOMPARE(config.options.number("percdamp"), 0.01);
        QCOMPARE(config.options.boolean("act_order"), true);
        QCOMPARE(core::runDisplayName(config), std::string("gptq w4g128 act-order"));
    }

    void omniquantGetsItsLossAndSection()
    {
        core::RunConfig config = core::parseRunConfig(R"({"method": "omniquant"})");
        QCOMPARE(config.loss.size(), std::size_t(1));
        QVERIFY(config.loss[0].type == core::LossType::Mse);
        QCOMPARE(config.loss[0].weight, 1.0);
        QCOMPARE(config.options.integer("epochs"), std::int64_t(20));
        QCOMPARE(config.options.integer("batch_size"), std::int64_t(1));
        QCOMPARE(config.options.number("lwc_lr"), 1e-2);
        QCOMPARE(core::runDisplayName(config), std::string("omniquant w4g128"));

        config = core::parseRunConfig(R"({"method": "omniquant", "weights": {"bits": 2, "group_size": 64},
            "loss": [{"type": "mse", "weight": 0.9}, {"type": "sw", "weight": 0.1, "projections": 64, "p": 2},
                     {"type": "kl_top", "k": 32}],
            "omniquant": {"epochs": 40, "aug_loss": true}})");
        QCOMPARE(config.loss.size(), std::size_t(3));
        QVERIFY(config.loss[1].type == core::LossType::SlicedWasserstein);
        QCOMPARE(config.loss[1].projections, std::int64_t(64));
        QCOMPARE(config.loss[1].p, 2);
        QCOMPARE(config.loss[2].topK, std::int64_t(32));
        QCOMPARE(config.options.integer("epochs"), std::int64_t(40));
        QVERIFY(config.options.boolean("aug_loss"));
        QCOMPARE(core::runDisplayName(config), std::string("omniquant w2g64 mse+sw+kl_top"));
        const std::string canonical = core::runConfigToJson(config);
        QCOMPARE(core::runConfigToJson(core::parseRunConfig(canonical)), canonical);
        const auto json = nlohmann::json::parse(canonical);
        QCOMPARE(json["loss"][1]["projections"].get<int>(), 64);
        QVERIFY(!json["loss"][0].contains("projections")); // options only where they apply
        // Methods that do not learn have neither.
        QVERIFY(!nlohmann::json::parse(core::runConfigToJson(core::defaultRunConfig("gptq"))).contains("loss"));
    }

    void tesseraqGetsItsOwnLossAndSection()
    {
        const core::RunConfig config = core::parseRunConfig(
            R"({"method": "tesseraq", "tesseraq": {"lwc_epochs": 0, "thresholds": [0.5, 0.1], "iterations": 7}})");
        QCOMPARE(config.loss.size(), std::size_t(1));
        QVERIFY(config.loss[0].type == core::LossType::L2); // TesseraQ's native loss
        QCOMPARE(config.options.integer("lwc_epochs"), std::int64_t(0));
        QCOMPARE(config.options.numbers("thresholds"), (std::vector<double>{0.5, 0.1}));
        QCOMPARE(config.options.integer("iterations"), std::int64_t(7));
        QCOMPARE(config.options.integer("batch_size"), std::int64_t(4));
        QCOMPARE(core::defaultRunConfig("tesseraq").options.numbers("thresholds").size(), std::size_t(20));
        QCOMPARE(core::runDisplayName(config), std::string("tesseraq w4g128"));
        const std::string canonical = core::runConfigToJson(config);
        QCOMPARE(core::runConfigToJson(core::parseRunConfig(canonical)), canonical);
    }

    void lossShorthand()
    {
        const auto terms = core::parseLossShorthand("mse:0.9,sw:0.1,nlc");
        QCOMPARE(terms.size(), std::size_t(3));
        QVERIFY(terms[1].type == core::LossType::SlicedWasserstein);
        QCOMPARE(terms[1].weight, 0.1);
        QCOMPARE(terms[1].projections, std::int64_t(128));
        QCOMPARE(terms[2].weight, 1.0);
        for (const char* bad : {"", "mse,", ":1", "mse:x", "mse:1e", "huber:1"})
            QVERIFY_THROWS_EXCEPTION(core::Error, core::parseLossShorthand(bad));
    }

    void canonicalJsonRoundTrips()
    {
        const std::string text = R"({"name": "x", "model": "/m", "method": "gptq",
            "weights": {"bits": 3, "group_size": -1, "symmetric": true},
            "calibration": {"text": "/c.txt", "samples": 7, "seq_len": 64, "seed": 18446744073709551615, "batch_size": 2},
            "eval": {"texts": ["/a.txt", "/b.txt"], "seq_len": 32, "max_windows": 5},
            "gptq": {"block_size": 32, "percdamp": 0.1, "act_order": true}})";
        const core::RunConfig config = core::parseRunConfig(text);
        QCOMPARE(config.calibration.seed, std::numeric_limits<std::uint64_t>::max());
        const std::string canonical = core::runConfigToJson(config);
        QCOMPARE(core::runConfigToJson(core::parseRunConfig(canonical)), canonical);
        // Every key is written out, so the stored config is explicit.
        const auto json = nlohmann::json::parse(canonical);
        QCOMPARE(json["weights"]["group_size"].get<int>(), -1);
        QCOMPARE(json["eval"]["texts"].size(), std::size_t(2));
        QCOMPARE(json["diagnostics"]["projections"].get<int>(), 64);
        QCOMPARE(json["diagnostics"]["enabled"].get<bool>(), true);
        QCOMPARE(core::runDisplayName(config), std::string("x"));
    }

    void errorsNameTheKey_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{method: rtn}"
                                  << "not valid JSON";
        QTest::newRow("not an object") << "[1]"
                                       << "must be a JSON object";
        QTest::newRow("no method") << "{}"
                                   << "'method' is required";
        QTest::newRow("unknown method") << R"({"method": "awq"})"
                                        << "method 'awq' is unknown";
        QTest::newRow("unknown top key") << R"({"method": "rtn", "wbits": 3})"
                                         << "unknown key 'wbits'";
        QTest::newRow("unknown nested key") << R"({"method": "rtn", "weights": {"bitz": 3}})"
                                            << "unknown key 'weights.bitz'";
        QTest::newRow("bits range") << R"({"method": "rtn", "weights": {"bits": 9}})"
                                    << "weights.bits must be in 1..8";
        QTest::newRow("bits type") << R"({"method": "rtn", "weights": {"bits": "3"}})"
                                   << "weights.bits must be an integer";
        QTest::newRow("bits fraction") << R"({"method": "rtn", "weights": {"bits": 3.5}})"
                                       << "weights.bits must be an integer";
        QTest::newRow("group zero") << R"({"method": "rtn", "weights": {"group_size": 0}})"
                                    << "weights.group_size must be -1";
        QTest::newRow("symmetric type") << R"({"method": "rtn", "weights": {"symmetric": 1}})"
                                        << "weights.symmetric must be true or false";
        QTest::newRow("samples") << R"({"method": "rtn", "calibration": {"samples": 0}})"
                                 << "calibration.samples must be in 1..";
        QTest::newRow("seq_len") << R"({"method": "rtn", "calibration": {"seq_len": -4}})"
                                 << "calibration.seq_len must be in 2..";
        QTest::newRow("negative seed") << R"({"method": "rtn", "calibration": {"seed": -1}})"
                                       << "calibration.seed must be >= 0";
        QTest::newRow("texts type") << R"({"method": "rtn", "eval": {"texts": "a.txt"}})"
                                    << "eval.texts must be an array";
        QTest::newRow("texts item") << R"({"method": "rtn", "eval": {"texts": [3]}})"
                                    << "eval.texts must contain only strings";
        QTest::newRow("max windows") << R"({"method": "rtn", "eval": {"max_windows": -1}})"
                                     << "eval.max_windows must be >= 0";
        QTest::newRow("diagnostics key") << R"({"method": "rtn", "diagnostics": {"bins": 3}})"
                                         << "unknown key 'diagnostics.bins'";
        QTest::newRow("diagnostics bins") << R"({"method": "rtn", "diagnostics": {"histogram_bins": 4}})"
                                          << "diagnostics.histogram_bins must be in 8..4096";
        QTest::newRow("qsur tokens") << R"({"method": "rtn", "diagnostics": {"qsur_tokens": -1}})"
                                     << "diagnostics.qsur_tokens must be >= 0";
        QTest::newRow("saliency map") << R"({"method": "rtn", "diagnostics": {"saliency_map_size": 512}})"
                                      << "diagnostics.saliency_map_size must be in 8..256";
        QTest::newRow("section of another method") << R"({"method": "rtn", "gptq": {}})"
                                                   << "section 'gptq' applies to method 'gptq' only";
        QTest::newRow("percdamp") << R"({"method": "gptq", "gptq": {"percdamp": 0}})"
                                  << "gptq.percdamp must be in (0, 1]";
        QTest::newRow("loss on rtn") << R"({"method": "rtn", "loss": [{"type": "mse"}]})"
                                     << "'loss' applies to block-reconstruction methods";
        QTest::newRow("loss type") << R"({"method": "omniquant", "loss": [{"type": "huber"}]})"
                                   << "loss[0].type: unknown loss type 'huber' (known: mse, l2, sw, nlc, kl_top)";
        QTest::newRow("loss no type") << R"({"method": "omniquant", "loss": [{"weight": 1}]})"
                                      << "loss[0].type is required";
        QTest::newRow("option of another type") << R"({"method": "omniquant", "loss": [{"type": "mse", "p": 2}]})"
                                                << "unknown key 'loss[0].p' (known: type, weight)";
        QTest::newRow("sw p") << R"({"method": "omniquant", "loss": [{"type": "mse"}, {"type": "sw", "p": 3}]})"
                              << "loss[1].p must be 1 or 2";
        QTest::newRow("loss weights") << R"({"method": "omniquant", "loss": [{"type": "mse", "weight": 0}]})"
                                      << "at least one term needs a weight > 0";
        QTest::newRow("empty loss") << R"({"method": "omniquant", "loss": []})"
                                    << "loss must be a non-empty array";
        QTest::newRow("epochs") << R"({"method": "omniquant", "omniquant": {"epochs": 0}})"
                                << "omniquant.epochs must be in 1..10000";
        QTest::newRow("omniquant on gptq") << R"({"method": "gptq", "omniquant": {}})"
                                           << "section 'omniquant' applies to method 'omniquant' only";
        QTest::newRow("thresholds order") << R"({"method": "tesseraq", "tesseraq": {"thresholds": [0.5, 0.6]}})"
                                          << "tesseraq.thresholds must decrease";
        QTest::newRow("thresholds range") << R"({"method": "tesseraq", "tesseraq": {"thresholds": [1.5]}})"
                                          << "tesseraq.thresholds[0] must be in [0, 1)";
        QTest::newRow("thresholds type") << R"({"method": "tesseraq", "tesseraq": {"thresholds": ["a"]}})"
                                         << "tesseraq.thresholds must contain only numbers";
        QTest::newRow("section type") << R"({"method": "rtn", "weights": 4})"
                                      << "weights must be an object";
    }

    void errorsNameTheKey()
    {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        try {
            core::parseRunConfig(json.toStdString(), "my.json");
            QFAIL("no error");
        } catch (const core::Error& e) {
            const QString message = QString::fromStdString(e.what());
            QVERIFY2(message.startsWith("my.json: "), qPrintable(message));
            QVERIFY2(message.contains(expected), qPrintable(message));
        }
    }

    void aRegisteredMethodIsParsedListedAndValidated()
    {
        // A method declared here, and nowhere else: the parser, the validator, the canonical
        // JSON and `quantscope methods` all know it from its descriptor.
        core::MethodDescriptor dummy;
        dummy.name = "test_dummy";
        dummy.description = "A method only this test knows";
        dummy.options = {{.key = "steps",
                          .type = core::OptionType::Integer,
                          .defaultValue = std::int64_t(3),
                          .minimum = 1,
                          .maximum = 9,
                          .unit = "steps",
                          .help = "How many"},
                         {.key = "sharp", .type = core::OptionType::Boolean, .defaultValue = false, .help = "Sharper"}};
        dummy.create = [](const core::RunConfig&) -> std::unique_ptr<core::CalibrationMethod> { return nullptr; };
        core::registerMethodDescriptor(dummy);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::registerMethodDescriptor(dummy)); // the name is taken

        const core::RunConfig config = core::parseRunConfig(R"({"method": "test_dummy", "test_dummy": {"steps": 7}})");
        QCOMPARE(config.options.integer("steps"), std::int64_t(7));
        QCOMPARE(config.options.boolean("sharp"), false);
        const std::string canonical = core::runConfigToJson(config);
        QCOMPARE(nlohmann::json::parse(canonical)["test_dummy"]["steps"].get<int>(), 7);
        QCOMPARE(core::runConfigToJson(core::parseRunConfig(canonical)), canonical);
        for (const char* bad : {R"({"method": "test_dummy", "test_dummy": {"steps": 10}})",
                                R"({"method": "test_dummy", "test_dummy": {"steps": 1.5}})",
                                R"({"method": "test_dummy", "test_dummy": {"sharpness": true}})",
                                R"({"method": "gptq", "test_dummy": {"steps": 2}})"})
            QVERIFY_THROWS_EXCEPTION(core::Error, core::parseRunConfig(bad));
        try {
            core::parseRunConfig(R"({"method": "test_dummy", "test_dummy": {"steps": 10}})", "x.json");
        } catch (const core::Error& e) {
            QVERIFY2(std::string(e.what()).find("x.json: test_dummy.steps must be in 1..9, got 10") == 0, e.what());
        }
        QVERIFY(core::methodNameList().ends_with(", test_dummy"));

        const auto listed = nlohmann::json::parse(core::methodsJson());
        const auto& entry = listed.back();
        QCOMPARE(entry["name"].get<std::string>(), std::string("test_dummy"));
        QCOMPARE(entry["options"][0]["key"].get<std::string>(), std::string("steps"));
        QCOMPARE(entry["options"][0]["default"].get<int>(), 3);
        QCOMPARE(entry["options"][0]["range"].get<std::string>(), std::string("1..9"));
        QCOMPARE(entry["capabilities"]["takes_loss"].get<bool>(), false);
        QVERIFY(core::methodsText().find("--set test_dummy.steps=...  integer 1..9, default 3 steps: How many") !=
                std::string::npos);
        QVERIFY(core::methodsMarkdown().find("| `test_dummy` | A method only this test knows |") != std::string::npos);
    }

    void everyBuiltInMethodIsListedWithItsOptions()
    {
        const auto listed = nlohmann::json::parse(core::methodsJson());
        std::vector<std::string> names;
        for (const auto& method : listed)
            names.push_back(method["name"].get<std::string>());
        for (const char* name : {"rtn", "gptq", "omniquant", "tesseraq"})
            QVERIFY2(std::find(names.begin(), names.end(), name) != names.end(), name);
        // Every default of the listing is the parser's default.
        for (const auto& method : listed) {
            const std::string name = method["name"].get<std::string>();
            if (name == "test_dummy")
                continue;
            const auto canonical = nlohmann::json::parse(core::runConfigToJson(core::defaultRunConfig(name)));
            for (const auto& option : method["options"])
                QCOMPARE(canonical[name][option["key"].get<std::string>()].dump(), option["default"].dump());
            QCOMPARE(method["capabilities"]["takes_loss"].get<bool>(), canonical.contains("loss"));
        }
    }

    void validateCatchesCodeBuiltConfigs()
    {
        core::RunConfig config = core::defaultRunConfig("rtn");
        core::validateRunConfig(config);
        config.weights.bits = 0;
        QVERIFY_THROWS_EXCEPTION(core::Error, core::validateRunConfig(config));
        config = core::defaultRunConfig("rtn");
        config.options = core::defaultRunConfig("gptq").options; // another method's options
        QVERIFY_THROWS_EXCEPTION(core::Error, core::validateRunConfig(config));
        config = core::defaultRunConfig("gptq");
        config.options.set("percdamp", std::int64_t(1)); // of the wrong type
        QVERIFY_THROWS_EXCEPTION(core::Error, core::validateRunConfig(config));
    }
};

QTEST_GUILESS_MAIN(TestRunConfig)
#include "test_run_config.moc"
