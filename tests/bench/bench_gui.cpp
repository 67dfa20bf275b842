// bench_gui (issue 8): the workbench's two interactive targets, driven through the real widgets
// on the offscreen platform.
//   1. Switching the selected layer in the inspector redraws all its plots in < 50 ms, for a
//      run of the bundled model (RTN W3 g128 with the default diagnostics, made here first).
//      Baseline in the same run: reading the same layer's diagnostics from the HDF5 store alone.
//   2. Opening a workspace of 1 000 runs shows the runs table in < 1 s. Baseline: the catalog
//      reads alone (runs, tags, perplexities).
// Prints one JSON object; no assertion (targets are reported, not enforced).

#include "config/run_config.h"
#include "diagnostics/diagnostics_reader.h"
#include "gui/layer_inspector.h"
#include "gui/runs_panel.h"
#include "jobs/calibrate_job.h"
#include "jobs/runtime.h"
#include "store/workspace.h"
#include "synthetic_runs.h"
#include "tiny_model_files.h"

#include <QApplication>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace {

double secondsOf(const std::function<void()>& work)
{
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json summary(std::vector<double> seconds)
{
    std::sort(seconds.begin(), seconds.end());
    return {{"median_ms", 1e3 * seconds[seconds.size() / 2]},
            {"max_ms", 1e3 * seconds.back()},
            {"samples", seconds.size()}};
}

void settle()
{
    QApplication::processEvents(); // layouts, then the paints they queue
    QApplication::processEvents();
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication application(argc, argv);
    const std::string dir = testsupport::makeTempDir("bench-gui");
    nlohmann::json report = {{"benchmark", "bench_gui"}};

    // 1. A run of the bundled model with diagnostics, then every layer selected in turn.
    {
        core::Workspace workspace(dir + "/run");
        core::RunConfig config = core::defaultRunConfig("rtn");
        config.weights.bits = 3;
        config.weights.groupSize = 128;
        config.calibration.samples = 16;
        config.calibration.seqLen = 256;
        config.eval.maxWindows = 2;
        const auto run = core::runCalibrationJob(workspace, config);

        app::LayerInspector inspector;
        inspector.resize(1400, 800);
        inspector.show();
        inspector.showRun(QString::fromStdString(dir + "/run"), run.runId);
        settle();
        QStringList layers;
        for (QTreeWidgetItemIterator it(inspector.tree()); *it; ++it)
            layers << (*it)->text(0);
        const core::DiagnosticsReader reader(workspace.artifactPath(run.runId));
        std::vector<double> switching, reading;
        for (int pass = 0; pass < 2; ++pass) // the first pass warms the file cache and the fonts
            for (const QString& layer : layers) {
                const double switched = secondsOf([&] {
                    inspector.selectLayer(layer);
                    settle();
                });
                const std::string name = layer.toStdString();
                const double read = secondsOf([&] {
                    if (reader.hasBlock(name))
                        reader.block(name);
                    else
                        reader.linear(name);
                });
                if (pass == 1) {
                    switching.push_back(switched);
                    reading.push_back(read);
                }
            }
        const nlohmann::json sw = summary(switching), rd = summary(reading);
        report["inspector_layer_switch"] = {
            {"layers", layers.size()}, {"switch", sw},
            {"read_only", rd},         {"ratio_median", sw["median_ms"].get<double>() / rd["median_ms"].get<double>()},
            {"target_ms", 50},         {"meets_target", sw["max_ms"].get<double>() < 50.0}};
    }

    // 2. A workspace of 1 000 runs opened in the runs panel.
    {
        testsupport::fillWorkspaceWithRuns(dir + "/many", 1000);
        std::vector<double> opening, reading;
        for (int pass = 0; pass < 4; ++pass) {
            app::RunsPanel panel;
            panel.resize(1200, 400);
            panel.show();
            const double opened = secondsOf([&] {
                panel.openWorkspace(QString::fromStdString(dir + "/many"));
                settle();
            });
            const double read = secondsOf([&] {
                const core::Workspace workspace(dir + "/many", core::OpenMode::ReadOnly);
                const auto runs = workspace.catalog().listRuns();
                const auto perplexity = workspace.catalog().datasetMetricOfAllRuns("perplexity");
            });
            if (pass > 0) {
                opening.push_back(opened);
                reading.push_back(read);
            }
        }
        const nlohmann::json op = summary(opening), rd = summary(reading);
        report["open_1000_runs"] = {{"open", op},
                                    {"catalog_read_only", rd},
                                    {"ratio_median", op["median_ms"].get<double>() / rd["median_ms"].get<double>()},
                                    {"target_ms", 1000},
                                    {"meets_target", op["max_ms"].get<double>() < 1000.0}};
    }
    std::filesystem::remove_all(dir);
    std::cout << report.dump(2) << std::endl;
    return 0;
}
