// Resume (issue 20 §4): a calibration stopped after a random block and resumed gives exactly
// the uninterrupted run's results (perplexities, task scores, every layer metric but the
// timings, the stored codes), for methods with state across blocks
// (PTQ1.61's salient channels, one-shot OAC's Hessians, OmniQuant's FP statistics) and with a
// model-level stage (OSTQuant's trained rotations); a changed model refuses to resume; sweep
// plans expand and validate up front; merging shards is idempotent.

#include "config/run_identity.h"
#include "io/checkpoint.h"
#include "io/tensor_io.h"
#include "jobs/calibrate_job.h"
#include "jobs/sweep_plan.h"
#include "jobs/sweep_task.h"
#include "small_run.h"
#include "store/run_artifacts.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kBlocks = 4;

// Everything a run stores that must not depend on the interruption: timings excluded.
struct RunNumbers {
    std::vector<core::DatasetMetric> datasets;
    std::vector<core::LayerMetric> layers;
    std::vector<core::TaskMetricRecord> tasks;
    std::map<std::string, double> run;
};

RunNumbers numbersOf(const core::Workspace& workspace, std::int64_t id)
{
    RunNumbers numbers;
    numbers.datasets = workspace.catalog().datasetMetrics(id);
    for (const core::LayerMetric& metric : workspace.catalog().layerMetrics(id))
        if (metric.metric.find("seconds") == std::string::npos)
            numbers.layers.push_back(metric);
    std::sort(numbers.layers.begin(), numbers.layers.end(),
              [](const auto& a, const auto& b) { return std::tie(a.layer, a.metric) < std::tie(b.layer, b.metric); });
    numbers.tasks = workspace.catalog().taskMetrics(id);
    numbers.run = workspace.catalog().runMetrics(id);
    return numbers;
}

// Bitwise equality, NaN equal to NaN (a metric can be NaN in both runs).
bool same(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

} // namespace

class TestResume : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    testsupport::SmallRunFiles m_files;

    core::RunConfig config(const QString& method) const
    {
        core::RunConfig config = testsupport::smallRunConfig(m_files, method.toStdString());
        if (method == "omniquant") {
            config.options.set("epochs", std::int64_t(2));
            config.options.set("let", true);
            config.loss = core::parseLossShorthand("mse:0.9,sw:0.1");
        } else if (method == "lrquant") {
            config.options.set("epochs", std::int64_t(1)); // its LET reads the FP model's statistics (state)
        } else if (method == "ptq161") {
            config.weights.bits = 1;
            config.weights.groupSize = -1;
            config.options.set("epochs", std::int64_t(2));
        } else if (method == "ostquant") {
            config.options.set("steps", std::int64_t(3));
            config.options.set("train_batch", std::int64_t(2));
        } else if (method == "tesseraq") {
            config.options.set("lwc_epochs", std::int64_t(1));
            config.options.set("iterations", std::int64_t(4));
        } else if (method == "gptq") {
            config.options.set("hessian", std::string("oac"));
            config.options.set("oac_schedule", std::string("one_shot"));
        }
        config.eval.tasks = {{"brown_cloze", "", "", 12}};
        return config;
    }

    void compareRuns(const core::Workspace& a, std::int64_t runA, const core::Workspace& b, std::int64_t runB)
    {
        const RunNumbers x = numbersOf(a, runA), y = numbersOf(b, runB);
        QCOMPARE(x.datasets.size(), y.datasets.size());
        for (std::size_t i = 0; i < x.datasets.size(); ++i) {
            QCOMPARE(x.datasets[i].metric, y.datasets[i].metric);
            QVERIFY2(same(x.datasets[i].value, y.datasets[i].value), x.datasets[i].metric.c_str());
        }
        QCOMPARE(x.layers.size(), y.layers.size());
        for (std::size_t i = 0; i < x.layers.size(); ++i) {
            QCOMPARE(x.layers[i].layer + "." + x.layers[i].metric, y.layers[i].layer + "." + y.layers[i].metric);
            QVERIFY2(same(x.layers[i].value, y.layers[i].value),
                     (x.layers[i].layer + " " + x.layers[i].metric).c_str());
        }
        QCOMPARE(x.tasks.size(), y.tasks.size());
        for (std::size_t i = 0; i < x.tasks.size(); ++i)
            QVERIFY(same(x.tasks[i].value, y.tasks[i].value));
        QCOMPARE(x.run.size(), y.run.size());
        for (const auto& [name, value] : x.run)
            QVERIFY2(same(value, y.run.at(name)), name.c_str());
        // The stored codes of every Linear, bit for bit.
        const core::ArtifactFile fa(a.artifactPath(runA), core::ArtifactMode::ReadOnly);
        const core::ArtifactFile fb(b.artifactPath(runB), core::ArtifactMode::ReadOnly);
        const auto names = core::quantizedLayerNames(fa);
        QCOMPARE(names, core::quantizedLayerNames(fb));
        for (const std::string& name : names)
            QVERIFY2(torch::equal(core::readQuantizedLinear(fa, name).dequantize(),
                                  core::readQuantizedLinear(fb, name).dequantize()),
                     name.c_str());
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("resume");
        m_files = testsupport::writeSmallRunFiles(m_dir, 5);
        // Four blocks, so the interruption can fall between any two of several.
        m_files.model = m_dir + "/four-blocks";
        fs::create_directories(m_files.model);
        testsupport::TinyModelSpec spec;
        spec.vocab = testsupport::writeByteLevelTokenizer(m_files.model);
        spec.layers = kBlocks;
        spec.seed = 5;
        testsupport::writeTinyModel(m_files.model, spec);
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void resumedRunIsTheUninterruptedRun_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("stop"); ///< blocks done when stopped; -1: a random one of 1..3
        for (const char* method : {"rtn", "gptq", "omniquant", "lrquant", "ptq161", "ostquant", "tesseraq"})
            QTest::newRow(method) << QString(method) << -1;
        // Stopped in block 0: the checkpoint holds only what prepareModel made (the trained rotations).
        QTest::newRow("ostquant in block 0") << QString("ostquant") << 0;
    }

    void resumedRunIsTheUninterruptedRun()
    {
        QFETCH(QString, method);
        QFETCH(int, stop);
        const core::RunConfig runConfig = config(method);
        const std::string tag = method.toStdString() + std::to_string(stop);
        core::Workspace reference(m_dir + "/reference-" + tag);
        const std::int64_t uninterrupted = core::runCalibrationJob(reference, runConfig).runId;

        // Stop after a random block, as a kill or SIGTERM would (printed, to reproduce a failure).
        std::random_device device;
        const std::int64_t stopAfter =
            stop >= 0 ? stop : std::uniform_int_distribution<std::int64_t>(1, kBlocks - 1)(device);
        qInfo("%s: stopped after %lld blocks", qPrintable(method), static_cast<long long>(stopAfter));
        core::Workspace workspace(m_dir + "/resumed-" + tag);
        core::CancelToken cancel;
        // After block k: its "done" report. In block 0: its first sub-step (the GPTQ pass).
        const std::string marker = stopAfter == 0
                                       ? "block 1/" + std::to_string(kBlocks) + ": " + method.toStdString()
                                       : "block " + std::to_string(stopAfter) + "/" + std::to_string(kBlocks) + " done";
        std::int64_t runId = 0;
        QVERIFY_THROWS_EXCEPTION(core::Cancelled, core::runCalibrationJob(
                                                      workspace, runConfig,
                                                      [&](const core::ProgressEvent& e) {
                                                          if (e.message.starts_with(marker))
                                                              cancel.requestCancel();
                                                      },
                                                      cancel, [&](std::int64_t id) { runId = id; }));
        QCOMPARE(core::checkpointedBlocks(workspace, runId), stopAfter);
        if (method == "gptq") {
            // One-shot OAC's Hessians of the later blocks were written once, after prepareModel.
            const auto commit = nlohmann::json::parse(
                core::readTextFile(workspace.runDirectory(runId) + "/resume/checkpoint.json"));
            QCOMPARE(commit["method_state"].size(), std::size_t(7 * (kBlocks - stopAfter)));
            for (const auto& [key, file] : commit["method_state"].items())
                QCOMPARE(file.get<std::string>(), std::string("prepared.pt"));
        }
        std::string resumedMessage;
        const auto result = core::resumeCalibrationJob(workspace, runId, [&](const core::ProgressEvent& e) {
            if (e.message.starts_with("resuming"))
                resumedMessage = e.message;
        });
        QCOMPARE(result.runId, runId);
        QCOMPARE(resumedMessage, "resuming after block " + std::to_string(stopAfter) + "/" + std::to_string(kBlocks));
        QCOMPARE(workspace.catalog().run(runId).status, core::RunStatus::Finished);
        QVERIFY(!fs::exists(workspace.runDirectory(runId) + "/resume")); // a finished run keeps no checkpoint
        compareRuns(reference, uninterrupted, workspace, runId);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::resumeCalibrationJob(workspace, runId)); // finished
    }

    void changedModelRefusesToResume()
    {
        const std::string model = m_dir + "/changed-model";
        fs::copy(m_files.model, model, fs::copy_options::recursive);
        core::RunConfig runConfig = config("rtn");
        runConfig.model = model;
        core::Workspace workspace(m_dir + "/changed");
        core::CancelToken cancel;
        std::int64_t runId = 0;
        QVERIFY_THROWS_EXCEPTION(core::Cancelled, core::runCalibrationJob(
                                                      workspace, runConfig,
                                                      [&](const core::ProgressEvent& e) {
                                                          if (e.message.find("block 2/") != std::string::npos)
                                                              cancel.requestCancel();
                                                      },
                                                      cancel, [&](std::int64_t id) { runId = id; }));
        const core::Checkpoint checkpoint(model);
        std::map<std::string, torch::Tensor> tensors;
        for (const auto& name : checkpoint.names())
            tensors[name] = core::loadFloat(checkpoint, name);
        tensors.at("model.layers.3.mlp.down_proj.weight").mul_(1.5);
        core::writeSafetensors(model + "/model.safetensors", tensors);
        try {
            core::resumeCalibrationJob(workspace, runId);
            QFAIL("resumed on a changed model");
        } catch (const core::Error& e) {
            QVERIFY2(std::string(e.what()).find("changed since") != std::string::npos, e.what());
        }
        QCOMPARE(workspace.catalog().run(runId).status, core::RunStatus::Cancelled); // left as it was
    }

    void sweepPlanExpandsAndValidates()
    {
        const std::string manifest = m_dir + "/sweep.json";
        nlohmann::json base = nlohmann::json::parse(core::runConfigToJson(config("rtn")));
        base.erase("name");
        // The axes in the order written (ordered_json keeps it): weights.bits, then the seed.
        nlohmann::ordered_json axes;
        axes["weights.bits"] = {2, 3};
        axes["calibration.seed"] = {0, 1, 2};
        core::writeFileAtomically(manifest,
                                  nlohmann::ordered_json{{"name", "plan-test"}, {"base", base}, {"axes", axes}}.dump());
        const core::SweepPlan plan = core::planSweep(manifest);
        QCOMPARE(plan.runs.size(), std::size_t(6));
        // The last axis varies fastest; hashes are stable and distinct.
        QCOMPARE(plan.runs[1].settings, (std::vector<std::string>{"weights.bits=2", "calibration.seed=1"}));
        QCOMPARE(plan.runs[1].contentHash, core::planSweep(manifest).runs[1].contentHash);
        std::set<std::string> hashes;
        for (const auto& run : plan.runs)
            hashes.insert(run.contentHash);
        QCOMPARE(hashes.size(), std::size_t(6));
        // Runs differing only in their seed share a seed group.
        QCOMPARE(core::seedGroupHash(plan.runs[0].configJson), core::seedGroupHash(plan.runs[2].configJson));
        QVERIFY(core::seedGroupHash(plan.runs[0].configJson) != core::seedGroupHash(plan.runs[3].configJson));

        // A bad value fails the plan naming the run and the key.
        core::writeFileAtomically(
            manifest,
            nlohmann::json{{"name", "plan-test"}, {"base", base}, {"axes", {{"weights.bits", {3, 9}}}}}.dump());
        try {
            core::planSweep(manifest);
            QFAIL("a 9-bit run was planned");
        } catch (const core::Error& e) {
            const std::string message = e.what();
            QVERIFY2(message.find("run 1 (weights.bits=9)") != std::string::npos, e.what());
            QVERIFY2(message.find("weights.bits") != std::string::npos, e.what());
        }
    }

    void mergingShardsIsIdempotent()
    {
        const std::string main = m_dir + "/merge-main";
        core::RunConfig runConfig = config("rtn");
        const std::string json = core::runConfigToJson(core::resolveRunConfig(runConfig));
        std::int64_t shardRun = 0;
        {
            core::Workspace shard(core::shardDirectory(main, core::runContentHash(json)));
            shardRun = core::runCalibrationJob(shard, runConfig).runId;
        }
        core::Workspace workspace(main);
        const auto first = core::mergeSweepShards(workspace);
        QCOMPARE(first.imported, 1);
        QVERIFY(first.problems.empty());
        const auto again = core::mergeSweepShards(workspace);
        QCOMPARE(again.imported, 0);
        QCOMPARE(again.alreadyMerged, 1);
        const auto runs = workspace.catalog().listRuns();
        QCOMPARE(runs.size(), std::size_t(1));
        const core::Workspace shard(core::shardDirectory(main, core::runContentHash(json)));
        compareRuns(shard, shardRun, workspace, runs.front().id);
        QCOMPARE(workspace.catalog().layerMetrics(runs.front().id).size(),
                 shard.catalog().layerMetrics(shardRun).size());
        QVERIFY(!fs::exists(workspace.runDirectory(runs.front().id) + "/job.lock"));
    }
};

QTEST_GUILESS_MAIN(TestResume)
#include "test_resume.moc"
