// Configure and launch from the window: the form's JSON is what the CLI's parser accepts
// (same canonical config), bad values show a message naming the key and disable Run, presets
// and load/save round-trip, and a tiny calibration launched from the window reaches
// `finished` (or `cancelled`) and appears in the runs panel.

#include "bar_plot.h"
#include "calib/calibration_method.h"
#include "config/method_descriptor.h"
#include "curve_plot.h"
#include "diagnostics/diagnostics_reader.h"
#include "gui/calibration_runner.h"
#include "gui/compare_view.h"
#include "gui/layer_inspector.h"
#include "gui/live_run_view.h"
#include "gui/main_window.h"
#include "gui/new_calibration_dialog.h"
#include "gui/plot_export.h"
#include "gui/run_config_form.h"
#include "gui/runs_panel.h"
#include "gui/saliency_view.h"
#include "gui/settings.h"
#include "heat_map_plot.h"
#include "histogram_plot.h"
#include "jobs/calibrate_job.h"
#include "labelled_heat_map.h"
#include "metric_lines_plot.h"
#include "store/workspace.h"
#include "tiny_model_files.h"
#include "util/text_file.h"
#include <QTableWidget>

#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTimer>
#include <QtTest>

#include <filesystem>

#include <nlohmann/json.hpp>

class TestCalibrationForm : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

    core::RunConfig tinyConfig(const std::string& method) const
    {
        core::RunConfig config = core::defaultRunConfig(method);
        config.model = m_dir + "/llama";
        config.weights.groupSize = 16;
        config.calibration.text = m_dir + "/text.txt";
        config.calibration.samples = 4;
        config.calibration.seqLen = 32;
        config.eval.texts = {m_dir + "/text.txt"};
        config.eval.seqLen = 32;
        return config;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_dir = testsupport::makeTempDir("form");
        qputenv("QUANTSCOPE_WORKSPACE", QByteArray::fromStdString(m_dir + "/workspace"));
        app::Settings().setLastWorkspaceDirectory({}); // an earlier test run's workspace must not open
        testsupport::writeTinyLlamaWithTokenizer(m_dir + "/llama");
        std::string text;
        for (int i = 0; i < 20; ++i)
            text += "The jury said the election was fine, and the city agreed. ";
        core::writeFileAtomically(m_dir + "/text.txt", text);
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void formJsonIsWhatTheCliAccepts()
    {
        app::RunConfigForm form;
        QVERIFY(form.config().has_value());
        const core::RunConfig parsed = core::parseRunConfig(form.configJson(), "cli");
        QCOMPARE(core::runConfigToJson(*form.config()), core::runConfigToJson(parsed));
        QCOMPARE(parsed.method, std::string("gptq"));

        form.applyPreset("SW experiment: OmniQuant, MSE + SW");
        const auto preset = form.config();
        QVERIFY(preset.has_value());
        QCOMPARE(preset->method, std::string("omniquant"));
        QCOMPARE(preset->weights.bits, 2);
        QCOMPARE(preset->weights.groupSize, std::int64_t(64));
        QCOMPARE(preset->loss.size(), std::size_t(2));
        QCOMPARE(preset->loss[1].weight, 0.1);
        QCOMPARE(preset->loss[1].projections, std::int64_t(128));
        QCOMPARE(preset->options.integer("epochs"), std::int64_t(5));

        // setConfig → config is the identity on what the form shows.
        app::RunConfigForm other;
        other.setConfig(*preset);
        QCOMPARE(core::runConfigToJson(*other.config()), core::runConfigToJson(*preset));

        // Save, load into a fresh form: the same config.
        const QString path = QString::fromStdString(m_dir + "/saved.json");
        QVERIFY(form.saveFile(path));
        app::RunConfigForm loaded;
        QVERIFY(loaded.loadFile(path));
        QCOMPARE(core::runConfigToJson(*loaded.config()), core::runConfigToJson(*preset));

        // The OAC presets keep the form's calibration fields and set method, bits and Hessian.
        QVERIFY(app::RunConfigForm::presetNames().contains("oac-2bit"));
        QVERIFY(app::RunConfigForm::presetNames().contains("oac-binary"));
        form.applyPreset("oac-binary");
        const auto binary = form.config();
        QVERIFY2(binary.has_value(), qPrintable(form.errorMessage()));
        QCOMPARE(binary->method, std::string("billm"));
        QCOMPARE(binary->weights.bits, 1);
        QCOMPARE(binary->options.choice("hessian"), std::string("oac"));
        QCOMPARE(binary->calibration.samples, preset->calibration.samples);
        form.applyPreset("oac-2bit");
        QVERIFY(form.config().has_value());
        QCOMPARE(form.config()->method, std::string("spqr"));
        QCOMPARE(form.config()->weights.groupSize, std::int64_t(16));
    }

    void switchingMethodsDropsTheOldSection()
    {
        // Re-running a GPTQ run and switching the method: the GPTQ section must go with it.
        app::RunConfigForm form;
        core::RunConfig gptq = core::defaultRunConfig("gptq");
        gptq.options.set("act_order", true);
        form.setConfig(gptq);
        auto* method = form.findChild<QComboBox*>("method");
        QVERIFY(method);
        method->setCurrentText("omniquant");
        QVERIFY2(form.config().has_value(), qPrintable(form.errorMessage()));
        QCOMPARE(form.config()->method, std::string("omniquant"));
        QVERIFY(!nlohmann::json::parse(form.configJson()).contains("gptq"));
        QCOMPARE(form.config()->loss.front().type, core::LossType::Mse);
        method->setCurrentText("tesseraq"); // the untouched loss follows the method's default
        QCOMPARE(form.config()->loss.front().type, core::LossType::L2);
        method->setCurrentText("gptq"); // the GPTQ rows kept what the user had
        QCOMPARE(form.config()->options.boolean("act_order"), true);

        // A method option out of range is named like any other key.
        auto* epochs = form.findChild<QSpinBox*>("omniquant.epochs");
        QVERIFY(epochs);
        method->setCurrentText("omniquant");
        epochs->setValue(0);
        QVERIFY2(form.errorMessage().contains("omniquant.epochs must be in 1..10000"), qPrintable(form.errorMessage()));
    }

    void aRegisteredMethodGetsItsRows()
    {
        // A method declared here, and nowhere else, appears in the form with its options.
        if (!core::findMethodDescriptor("test_dummy")) {
            core::MethodDescriptor dummy;
            dummy.name = "test_dummy";
            dummy.description = "A method only this test knows";
            dummy.options = {{.key = "strength",
                              .type = core::OptionType::Number,
                              .defaultValue = 0.25,
                              .minimum = 0.0,
                              .maximum = 1.0,
                              .help = "How hard it tries"}};
            dummy.create = [](const core::RunConfig&) { return core::createCalibrationMethod("rtn"); };
            core::registerMethodDescriptor(dummy);
        }
        app::RunConfigForm form;
        auto* method = form.findChild<QComboBox*>("method");
        QVERIFY(method->findText("test_dummy") >= 0);
        method->setCurrentText("test_dummy");
        auto* strength = form.findChild<QDoubleSpinBox*>("test_dummy.strength");
        QVERIFY(strength);
        strength->setValue(0.5);
        QVERIFY2(form.config().has_value(), qPrintable(form.errorMessage()));
        QCOMPARE(form.config()->options.number("strength"), 0.5);
        strength->setValue(1.5);
        QVERIFY2(form.errorMessage().contains("test_dummy.strength must be in 0..1"), qPrintable(form.errorMessage()));
    }

    void activationAndKvRowsWriteTheirSections()
    {
        app::RunConfigForm form;
        auto* activationBits = form.findChild<QSpinBox*>("activations.bits");
        auto* granularity = form.findChild<QComboBox*>("activations.granularity");
        auto* kvBits = form.findChild<QSpinBox*>("kv.bits");
        auto* kvGroup = form.findChild<QSpinBox*>("kv.group_size");
        QVERIFY(activationBits && granularity && kvBits && kvGroup);
        QCOMPARE(activationBits->value(), 16); // off by default: weight-only
        QVERIFY(!granularity->isEnabled());    // nothing to configure while off
        activationBits->setValue(4);
        kvBits->setValue(4);
        kvGroup->setValue(8);
        QVERIFY(granularity->isEnabled() && kvGroup->isEnabled());
        QVERIFY2(form.config().has_value(), qPrintable(form.errorMessage()));
        QCOMPARE(form.config()->activations.bits, 4);
        QCOMPARE(form.config()->kv.bits, 4);
        QCOMPARE(form.config()->kv.groupSize, std::int64_t(8));
        activationBits->setValue(12);
        QVERIFY2(form.errorMessage().contains("activations.bits must be in 2..8, or 16"),
                 qPrintable(form.errorMessage()));

        // A stored W4A4KV4 config shows its sections (run again).
        core::RunConfig stored = core::defaultRunConfig("rtn");
        stored.activations.bits = 6;
        stored.activations.granularity = core::ActivationGranularity::PerTensor;
        stored.kv.bits = 3;
        form.setConfig(stored);
        QCOMPARE(activationBits->value(), 6);
        QCOMPARE(granularity->currentText(), QString("per_tensor"));
        QVERIFY(form.config()->activations == stored.activations);
        QVERIFY(form.config()->kv == stored.kv);
    }

    void badValuesShowAMessageNamingTheKey()
    {
        app::RunConfigForm form;
        QSignalSpy validity(&form, &app::RunConfigForm::validityChanged);
        auto* bits = form.findChild<QSpinBox*>("bits");
        QVERIFY(bits);
        bits->setValue(9);
        QVERIFY(!form.config().has_value());
        QVERIFY2(form.errorMessage().contains("weights.bits must be in 1..8"), qPrintable(form.errorMessage()));
        QCOMPARE(validity.last().first().toBool(), false);
        bool shown = false;
        for (const QLabel* label : form.findChildren<QLabel*>())
            shown = shown || label->text().contains("weights.bits");
        QVERIFY(shown);
        bits->setValue(3);
        QCOMPARE(validity.last().first().toBool(), true);

        // Diagnostics options go through the same check.
        auto* bins = form.findChild<QSpinBox*>("histogram_bins");
        QVERIFY(bins);
        bins->setValue(4);
        QVERIFY2(form.errorMessage().contains("diagnostics.histogram_bins must be in 8..4096"),
                 qPrintable(form.errorMessage()));
        bins->setValue(128);
        QCOMPARE(form.config()->diagnostics.histogramBins, std::int64_t(128));

        // The model field describes the model, or says why it cannot be read.
        auto* modelInfo = form.findChild<QLabel*>("model_info");
        QVERIFY(modelInfo);
        form.setModelDirectory(QString::fromStdString(m_dir + "/llama"));
        QVERIFY2(modelInfo->text().startsWith("llama, 2 blocks"), qPrintable(modelInfo->text()));
        form.setModelDirectory(QString::fromStdString(m_dir + "/missing"));
        QVERIFY2(modelInfo->text().contains("missing"), qPrintable(modelInfo->text()));
        form.setModelDirectory(QString::fromStdString(m_dir + "/llama"));

        form.applyPreset("SW experiment: TesseraQ, L2 + SW");
        QVERIFY(form.config().has_value());
        QCOMPARE(form.config()->options.integer("iterations"), std::int64_t(10));
        const QString loaded = QString::fromStdString(m_dir + "/broken.json");
        core::writeFileAtomically(loaded.toStdString(), R"({"method": "omniquant", "loss": [{"type": "huber"}]})");
        QVERIFY(!form.loadFile(loaded));
    }

    void oacRunShowsBothSaliencyMapsAndTheOutliers()
    {
        app::MainWindow window;
        QSignalSpy finished(window.runner(), &app::CalibrationRunner::finished);
        core::RunConfig config = tinyConfig("spqr");
        config.weights.bits = 2;
        config.options.set("hessian", std::string("oac"));
        config.options.set("statistic_group_size", std::int64_t(8));
        QVERIFY(window.startCalibration(config));
        QVERIFY(finished.wait(120000));
        const qint64 id = finished.first().at(0).toLongLong();
        window.runsPanel()->selectRuns({id});
        const std::string layer = "model.layers.1.self_attn.q_proj";
        QVERIFY(window.inspector()->selectLayer(QString::fromStdString(layer)));
        const core::DiagnosticsReader reader(window.runsPanel()->workspaceDirectory().toStdString() + "/runs/" +
                                             std::to_string(id) + "/artifacts.h5");
        const core::LinearDiagnostics stored = reader.linear(layer);
        QVERIFY(stored.saliency && stored.outputAdaptiveSaliency);
        app::SaliencyView* view = window.inspector()->saliency();
        QVERIFY(view->hessianChoice()->isEnabled());
        QVERIFY2(view->agreement()->text().contains("Jaccard"), qPrintable(view->agreement()->text()));
        QCOMPARE(view->map()->markerCount(), static_cast<int>(stored.outliers.size()));
        QVERIFY(!stored.outliers.empty());
        // The selector switches the map to the Ĥ saliency as stored.
        view->hessianChoice()->setCurrentIndex(1);
        const core::FloatArray& oac = stored.outputAdaptiveSaliency->obsMap;
        QCOMPARE(view->map()->cellValue(1, 2),
                 static_cast<double>(oac.values[static_cast<std::size_t>(oac.shape[1] + 2)]));
        view->hessianChoice()->setCurrentIndex(0);
        const core::FloatArray& xtx = stored.saliency->obsMap;
        QCOMPARE(view->map()->cellValue(1, 2),
                 static_cast<double>(xtx.values[static_cast<std::size_t>(xtx.shape[1] + 2)]));
        if (const QString shots = qEnvironmentVariable("QUANTSCOPE_SCREENSHOT_DIR"); !shots.isEmpty()) {
            view->hessianChoice()->setCurrentIndex(1);
            view->resize(900, 700);
            QVERIFY(view->grab().save(shots + "/saliency_oac.png"));
        }
    }

    // Issue 20: a cancelled calibration continues from its checkpoint from the window, in the
    // same run, to the uninterrupted result.
    void cancelledRunResumesFromTheWindow()
    {
        app::MainWindow window;
        QSignalSpy finished(window.runner(), &app::CalibrationRunner::finished);
        QSignalSpy cancelled(window.runner(), &app::CalibrationRunner::cancelled);
        const core::RunConfig config = tinyConfig("gptq");
        QVERIFY(window.startCalibration(config));
        QVERIFY(finished.wait(120000));
        const qint64 reference = finished.takeFirst().at(0).toLongLong();
        // Direct: the cancel is requested on the worker, before its next cancellation check. A
        // queued slot could run only after the tiny run had already finished (seen under load).
        connect(
            window.runner(), &app::CalibrationRunner::progress, this,
            [&](const QString& stage, double fraction, const QString& message) {
                // Progress is throttled: any report after block 1 (block 2, or the evaluation
                // after calibration: the FP one comes first, under 25 %).
                if (message.startsWith(QStringLiteral("block 2/2")) ||
                    (stage == QLatin1String("eval") && fraction > 0.75))
                    window.runner()->cancel();
            },
            Qt::DirectConnection);
        QVERIFY(window.startCalibration(config));
        QVERIFY(cancelled.wait(120000));
        window.runner()->disconnect(this);
        const core::Workspace workspace(window.runsPanel()->workspaceDirectory().toStdString(),
                                        core::OpenMode::ReadOnly);
        const qint64 interrupted = reference + 1;
        QCOMPARE(workspace.catalog().run(interrupted).status, core::RunStatus::Cancelled);
        QVERIFY(core::checkpointedBlocks(workspace, interrupted) >= 1);
        QVERIFY(window.resumeRun(interrupted));
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().at(0).toLongLong(), interrupted);
        QCOMPARE(workspace.catalog().run(interrupted).status, core::RunStatus::Finished);
        const auto a = workspace.catalog().datasetMetrics(reference);
        const auto b = workspace.catalog().datasetMetrics(interrupted);
        QCOMPARE(b.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            QCOMPARE(b[i].value, a[i].value);
    }

    void ptq161MaskStripAndAdaptationFromTheWindow()
    {
        app::MainWindow window;
        QSignalSpy finished(window.runner(), &app::CalibrationRunner::finished);
        core::RunConfig ptq161 = tinyConfig("ptq161");
        ptq161.weights.bits = 1;
        ptq161.weights.groupSize = -1;
        ptq161.options.set("epochs", std::int64_t(1));
        QVERIFY(window.startCalibration(ptq161));
        QVERIFY(finished.wait(120000));
        const qint64 maskRun = finished.takeFirst().at(0).toLongLong();
        window.runsPanel()->selectRuns({maskRun});
        const std::string layer = "model.layers.1.mlp.down_proj";
        QVERIFY(window.inspector()->selectLayer(QString::fromStdString(layer)));
        const core::DiagnosticsReader reader(window.runsPanel()->workspaceDirectory().toStdString() + "/runs/" +
                                             std::to_string(maskRun) + "/artifacts.h5");
        const auto salient = reader.salientColumns(layer);
        QVERIFY(!salient.empty());
        QCOMPARE(window.inspector()->channelPlot()->markedPositionCount(), static_cast<int>(salient.size()));
        QVERIFY(window.inspector()->selectLayer("model.layers.1.self_attn.q_proj"));
        QVERIFY(window.inspector()->channelPlot()->markedPositionCount() > 0);

        // Its preprocessing from the window: LoRA, merge, PTQ1.61 again; linked to its parent.
        QSignalSpy failed(window.runner(), &app::CalibrationRunner::failed);
        QVERIFY(window.startPreprocessing(maskRun));
        QVERIFY2(finished.wait(120000), failed.isEmpty() ? "timeout" : qPrintable(failed.first().at(0).toString()));
        const qint64 preprocessed = finished.takeFirst().at(0).toLongLong();
        window.runsPanel()->refresh();
        QCOMPARE(window.runsPanel()
                     ->model()
                     ->index(window.runsPanel()->model()->rowOf(preprocessed), app::RunsTableModel::Method)
                     .data()
                     .toString(),
                 QString("ptq161 · preprocessed of #%1").arg(maskRun));

        // LRQuant, then its test-time adaptation from the window: a TTA run linked to it.
        core::RunConfig lrquant = tinyConfig("lrquant");
        lrquant.weights.groupSize = -1;
        lrquant.activations.bits = 4;
        lrquant.options.set("epochs", std::int64_t(1));
        QVERIFY(window.startCalibration(lrquant));
        QVERIFY(finished.wait(120000));
        const qint64 parent = finished.takeFirst().at(0).toLongLong();
        QVERIFY(window.startAdaptation(parent, QString::fromStdString(m_dir + "/text.txt")));
        QVERIFY(finished.wait(120000));
        const qint64 adapted = finished.takeFirst().at(0).toLongLong();
        QVERIFY2(finished.isEmpty(), "one job at a time");
        window.runsPanel()->refresh();
        const auto* model = window.runsPanel()->model();
        QCOMPARE(model->index(model->rowOf(adapted), app::RunsTableModel::Method).data().toString(),
                 QString("lrquant · TTA of #%1").arg(parent));
        // An LRQuant Linear has no structured mask: the strip goes.
        window.runsPanel()->selectRuns({parent});
        QVERIFY(window.inspector()->selectLayer(QString::fromStdString(layer)));
        QCOMPARE(window.inspector()->channelPlot()->markedPositionCount(), 0);
    }

    void calibrationFromTheWindowFinishesAndIsListed()
    {
        app::MainWindow window;
        QSignalSpy finished(window.runner(), &app::CalibrationRunner::finished);
        QSignalSpy progress(window.runner(), &app::CalibrationRunner::progress);
        QVERIFY(window.startCalibration(tinyConfig("gptq")));
        QVERIFY(!window.startCalibration(tinyConfig("rtn"))); // one at a time
        QVERIFY(finished.wait(120000));
        QVERIFY(!progress.isEmpty());
        const qint64 id = finished.first().at(0).toLongLong();
        QVERIFY(finished.first().at(1).toString().contains("gptq w4g16"));
        const auto* model = window.runsPanel()->model();
        QVERIFY(model->rowOf(id) >= 0);
        QCOMPARE(model->runs()[model->rowOf(id)].status, QString("finished"));

        // Selecting the run opens it in the inspector; a Linear's plots hold the stored counts.
        window.runsPanel()->selectRuns({id});
        QCOMPARE(window.inspector()->runId(), id);
        QVERIFY(window.inspector()->selectLayer("model.layers.1.mlp.down_proj"));
        const core::DiagnosticsReader reader(window.runsPanel()->workspaceDirectory().toStdString() + "/runs/" +
                                             std::to_string(id) + "/artifacts.h5");
        const core::LinearDiagnostics stored = reader.linear("model.layers.1.mlp.down_proj");
        const QVector<double> plotted = window.inspector()->inputPlot()->plottedCounts(1);
        QCOMPARE(plotted.size(), static_cast<qsizetype>(stored.input.quantized.size()));
        for (qsizetype b = 0; b < plotted.size(); ++b)
            QCOMPARE(plotted[b], static_cast<double>(stored.input.quantized[static_cast<std::size_t>(b)]));
        QCOMPARE(window.inspector()->weightPlot()->plottedCounts(0).size(),
                 static_cast<qsizetype>(stored.weight.fp.size()));
        QCOMPARE(window.inspector()->channelPlot()->plottedValues(0).size(),
                 static_cast<qsizetype>(stored.channels[0].size()));
        QCOMPARE(window.inspector()->channelPlot()->plottedValues(0).value(3),
                 static_cast<double>(stored.channels[0][3]));
        QVERIFY(stored.saliency.has_value());
        const core::FloatArray& map = stored.saliency->obsMap;
        QCOMPARE(window.inspector()->saliency()->map()->cellValue(2, 3),
                 static_cast<double>(map.values[static_cast<std::size_t>(2 * map.shape[1] + 3)]));
        QCOMPARE(window.inspector()->saliency()->topSalient()->rowCount(),
                 static_cast<int>(stored.saliency->topObs.size()));
        QCOMPARE(window.inspector()->saliency()->map()->toCsv().count('\n'),
                 1 + static_cast<int>(map.shape[0] * map.shape[1]));
        QCOMPARE(window.inspector()->saliency()->topSalient()->item(0, 1)->text(),
                 QString::number(stored.saliency->topObs[0].column));
        if (const QString shots = qEnvironmentVariable("QUANTSCOPE_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QWidget* tab = window.inspector()->saliency();
            tab->resize(800, 700);
            QVERIFY(tab->grab().save(shots + "/saliency.png"));
        }
        QVERIFY(window.inspector()->selectLayer("model.layers.0"));
        QVERIFY(window.inspector()->inputPlot()->plottedCounts(0).size() > 0);
        // Projected SW: W1 per direction as stored, and the histograms of the chosen direction.
        const core::BlockDiagnostics block = reader.block("model.layers.0");
        const QVector<double> bars = window.inspector()->swBars()->plottedValues();
        QCOMPARE(bars.size(), static_cast<qsizetype>(block.w1.size()));
        QCOMPARE(bars.value(5), block.w1[5]);
        window.inspector()->showDirection(5);
        const QVector<double> projected = window.inspector()->projectionPlot()->plottedCounts(1);
        const std::int64_t bins = block.histQuantized.shape[1];
        QCOMPARE(projected.size(), static_cast<qsizetype>(bins));
        QCOMPARE(projected.value(bins / 2), static_cast<double>(block.histQuantized.values[5 * bins + bins / 2]));
        // Every plot exports as PNG, SVG and PDF, and its data as CSV.
        for (const char* extension : {"png", "svg", "pdf"}) {
            const QString path = QString::fromStdString(m_dir + "/plot.") + extension;
            QVERIFY2(app::savePlot(window.inspector()->projectionPlot()->plot(), path), extension);
            QVERIFY(std::filesystem::file_size(path.toStdString()) > 1000);
        }
        const QString csv = app::graphsCsv(window.inspector()->projectionPlot()->plot());
        QVERIFY(csv.startsWith("series,x,y\n\"full precision\","));
        QCOMPARE(csv.count('\n'), 1 + 2 * static_cast<int>(bins + 1));
        QVERIFY(window.inspector()->swBars()->toCsv().startsWith("index,value\n0,"));
        if (const QString shots = qEnvironmentVariable("QUANTSCOPE_SCREENSHOT_DIR"); !shots.isEmpty()) {
            QWidget* tab = window.inspector()->projectionPlot()->parentWidget();
            tab->resize(800, 600);
            QVERIFY(tab->grab().save(shots + "/projected_sw.png"));
        }

        // A second run, and both selected: the compare view shows the two side by side.
        QVERIFY(window.startCalibration(tinyConfig("rtn")));
        QVERIFY(finished.wait(120000));
        const qint64 second = finished.last().at(0).toLongLong();
        window.runsPanel()->selectRuns({id, second});
        QCOMPARE(window.compareView()->runIds(), (QList<qint64>{id, second}));
        QCOMPARE(window.compareView()->perplexityTable()->columnCount(), 3);
        QVERIFY(window.compareView()->perplexityTable()->item(0, 2)->text().contains("("));
        {
            const QTableWidget* table = window.compareView()->perplexityTable();
            const int bitsRow = table->rowCount() - 1;
            QCOMPARE(table->verticalHeaderItem(bitsRow)->text(), QString("bits/weight"));
            QVERIFY(table->item(bitsRow, 1) && table->item(bitsRow, 1)->text().toDouble() > 4.0);
        }
        QVERIFY(window.compareView()->showMetric("rel_error"));
        const core::Workspace workspace(window.runsPanel()->workspaceDirectory().toStdString(),
                                        core::OpenMode::ReadOnly);
        double firstRelError = NAN;
        for (const auto& m : workspace.catalog().layerMetrics(second))
            if (m.metric == "rel_error") {
                firstRelError = m.value;
                break;
            }
        QCOMPARE(window.compareView()->metricPlot()->plottedValues(1).value(0), firstRelError);
        QCOMPARE(window.compareView()->metricPlot()->plottedValues(0).size(), 14);

        // A learning run next to them: its block's loss curve is overlaid (one curve, every step).
        core::RunConfig learned = tinyConfig("omniquant");
        learned.options.set("epochs", std::int64_t(30)); // long enough for block 2 to report progress
        // Per-layer metrics fill in as blocks finish: when block 2 starts, block 1's rows are there.
        int rowsWhenBlock2Started = -1;
        const auto watch =
            connect(window.runner(), &app::CalibrationRunner::progress, &window,
                    [&](const QString&, double, const QString& message, const QStringList&, const QVector<double>&) {
                        if (rowsWhenBlock2Started < 0 && message.startsWith("block 2/2"))
                            rowsWhenBlock2Started = window.liveView()->layerTable()->rowCount();
                    });
        QVERIFY(window.startCalibration(learned));
        QVERIFY(finished.wait(120000));
        disconnect(watch);
        const qint64 third = finished.last().at(0).toLongLong();
        QCOMPARE(rowsWhenBlock2Started, 8);                        // block 1: its 7 Linears and the block itself
        QCOMPARE(window.liveView()->layerTable()->rowCount(), 16); // both blocks at the end
        // The live dock followed the training: the last block's terms and total, step by step.
        QCOMPARE(window.liveLossPlot()->curveCount(), 2); // mse, total
        QVERIFY(window.liveLossPlot()->plottedValues(0).size() >= 1);
        window.runsPanel()->selectRuns({id, third});
        QVERIFY(window.compareView()->showLossCurves("model.layers.1"));
        QCOMPARE(window.compareView()->lossPlot()->curveCount(), 1);
        QCOMPARE(window.compareView()->lossPlot()->plottedValues(0).size(), 30 * 4); // 30 epochs × 4 samples

        // Difference map, OmniQuant against GPTQ: the relative change per Linear and metric, in %,
        // negated where higher is better (SQNR), exactly from the catalog's numbers.
        QVERIFY(window.compareView()->showDifference(1, false));
        const widgets::LabelledHeatMap* difference = window.compareView()->differenceMap();
        std::map<std::string, std::map<std::string, double>> before, after; // metric → layer → value
        for (const auto& m : workspace.catalog().layerMetrics(id))
            before[m.metric][m.layer] = m.value;
        for (const auto& m : workspace.catalog().layerMetrics(third))
            after[m.metric][m.layer] = m.value;
        const QStringList columns = difference->columnLabels();
        QVERIFY(columns.contains("rel_error") && columns.contains("sqnr_db") && !columns.contains("seconds"));
        QCOMPARE(difference->rowLabels().size(), 14);                      // the tiny model's Linears
        const std::string firstLinear = "model.layers.0.self_attn.q_proj"; // execution order
        QCOMPARE(difference->rowLabels().front(), QString("0.q_proj"));
        const auto change = [&](const char* metric) {
            const double a = before[metric][firstLinear], b = after[metric][firstLinear];
            return 100.0 * (b - a) / std::abs(a);
        };
        QVERIFY(std::abs(difference->cellValue(0, static_cast<int>(columns.indexOf("rel_error"))) -
                         change("rel_error")) < 1e-9);
        QVERIFY(std::abs(difference->cellValue(0, static_cast<int>(columns.indexOf("sqnr_db"))) + change("sqnr_db")) <
                1e-9);
        const QStringList csvLines = difference->toCsv().split('\n', Qt::SkipEmptyParts);
        QCOMPARE(csvLines.size(), 1 + 14);
        QVERIFY(csvLines.front().startsWith("layer,"));
        QVERIFY(csvLines.at(1).startsWith("0.q_proj,"));
        QVERIFY(window.compareView()->showDifference(0, false, 1)); // the other way round: the sign flips
        QVERIFY(difference->cellValue(0, static_cast<int>(columns.indexOf("rel_error"))) * change("rel_error") < 0.0);
        QVERIFY(!window.compareView()->showDifference(1, false, 1)); // a run against itself
        QVERIFY(window.compareView()->showDifference(1, true));      // blocks: output metrics
        QVERIFY(difference->columnLabels().contains("sw1"));
        QCOMPARE(difference->rowLabels().size(), 2);
        const QStringList written =
            window.compareView()->exportPlots(QString::fromStdString(m_dir + "/plots"), 600, 400);
        QVERIFY(written.contains(
            QString::fromStdString(m_dir + "/plots/difference_run" + std::to_string(third) + "_blocks.png")));
        QVERIFY(written.contains(QString::fromStdString(m_dir + "/plots/metric_rel_error.png")));
        QVERIFY(written.contains(QString::fromStdString(m_dir + "/plots/loss_model_layers_1.png")));

        // The inspector's QSUR chart: every Linear's stored QSUR of its FP inputs, in model order.
        window.runsPanel()->selectRuns({third});
        const QVector<double> qsur = window.inspector()->qsurPlot()->plottedValues(0);
        QCOMPARE(qsur.size(), 14);
        QCOMPARE(qsur.front(), after["qsur_input_fp"][firstLinear]);

        // Re-run from the runs menu: the New Calibration dialog opens with the run's config.
        std::string offered;
        QTimer::singleShot(0, &window, [&offered] {
            auto* dialog = qobject_cast<app::NewCalibrationDialog*>(QApplication::activeModalWidget());
            if (dialog) {
                offered = dialog->form()->configJson();
                dialog->reject();
            }
        });
        window.rerun(third);
        QVERIFY(!offered.empty());
        // Everything carries over, the fields the form has no widget for (texts, batch sizes) too.
        const core::RunConfig storedConfig = core::parseRunConfig(workspace.catalog().run(third).configJson);
        QCOMPARE(core::runConfigToJson(core::parseRunConfig(offered)), core::runConfigToJson(storedConfig));
        QCOMPARE(storedConfig.eval.texts, learned.eval.texts);

        // Export from the runs menu: a plain HF model directory, written on a worker thread.
        QSignalSpy exported(&window, &app::MainWindow::exportDone);
        window.exportRunModel(third, QString::fromStdString(m_dir + "/exported"));
        QVERIFY(exported.wait(120000));
        QCOMPARE(exported.first().at(2).toString(), QString());
        QVERIFY(std::filesystem::exists(m_dir + "/exported/model.safetensors"));
        window.exportRunModel(third, QString::fromStdString(m_dir + "/exported")); // not empty: refused
        QVERIFY(exported.wait(120000));
        QVERIFY(exported.last().at(2).toString().contains("exported"));

        // Cancel as soon as the run exists: it ends `cancelled` and stays listed.
        QSignalSpy cancelled(window.runner(), &app::CalibrationRunner::cancelled);
        connect(window.runner(), &app::CalibrationRunner::runCreated, window.runner(), &app::CalibrationRunner::cancel);
        core::RunConfig slow = tinyConfig("omniquant");
        slow.options.set("epochs", std::int64_t(200));
        QVERIFY(window.startCalibration(slow));
        QVERIFY(cancelled.wait(120000));
        QCOMPARE(model->runs().back().status, QString("cancelled"));

        // With QUANTSCOPE_SCREENSHOT_DIR set, keep pictures of what the user sees (offscreen).
        const QString shots = qEnvironmentVariable("QUANTSCOPE_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            window.resize(1200, 820);
            QVERIFY(window.grab().save(shots + "/main_window.png"));
            app::NewCalibrationDialog dialog(&window);
            dialog.form()->applyPreset("SW experiment: OmniQuant, MSE + SW");
            dialog.show();
            QVERIFY(dialog.grab().save(shots + "/new_calibration.png"));
        }
    }
};

QTEST_MAIN(TestCalibrationForm)
#include "test_calibration_form.moc"
