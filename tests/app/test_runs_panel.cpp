// The runs panel over a real workspace catalog: the item models pass
// QAbstractItemModelTester, 1 000 runs load quickly, the filter matches any column,
// perplexity columns sort as numbers, and rename / tag / delete reach the catalog while the
// selection survives a refresh.

#include "config/run_config.h"
#include "gui/runs_panel.h"
#include "store/workspace.h"
#include "synthetic_runs.h"
#include "tiny_model_files.h"
#include "util/error.h"

#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include <filesystem>

class TestRunsPanel : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        m_dir = testsupport::makeTempDir("runs-panel");
        testsupport::fillWorkspaceWithRuns(m_dir + "/ws", 1000);
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void listsEveryRunQuickly()
    {
        app::RunsPanel panel;
        new QAbstractItemModelTester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest, &panel);
        new QAbstractItemModelTester(panel.filterModel(), QAbstractItemModelTester::FailureReportingMode::QtTest,
                                     &panel);
        QElapsedTimer timer;
        timer.start();
        QVERIFY(panel.openWorkspace(QString::fromStdString(m_dir + "/ws")));
        qInfo("1000 runs listed in %lld ms (catalog read, model reset, column sizing)",
              static_cast<long long>(timer.elapsed()));
        QCOMPARE(panel.model()->rowCount(), 1000);
        QCOMPARE(panel.model()->datasets(), QStringList{"brown_test"});
        const int method = app::RunsTableModel::Method, loss = app::RunsTableModel::Loss;
        const int row = panel.model()->rowOf(3);
        QCOMPARE(panel.model()->index(row, method).data().toString(), QString("omniquant"));
        QCOMPARE(panel.model()->index(row, loss).data().toString(), QString("mse+sw"));
        QCOMPARE(panel.model()->index(row, app::RunsTableModel::Weights).data().toString(), QString("w2g128"));
        QCOMPARE(panel.model()->index(row, app::RunsTableModel::Bits).data().toString(), QString("W2A16"));
        QCOMPARE(panel.model()->index(panel.model()->rowOf(4), app::RunsTableModel::Bits).data().toString(),
                 QString("W3A4KV4"));
        QCOMPARE(panel.model()
                     ->index(panel.model()->rowOf(50), app::RunsTableModel::Status)
                     .data(Qt::ToolTipRole)
                     .toString(),
                 QString("out of memory"));
    }

    // Issue 20 §5: runs that differ only in their seed become one row, mean ± sample std, n; a
    // selected group stands for its runs.
    void groupsSeedsWithMeanAndSpread()
    {
        const std::string directory = m_dir + "/ws-seeds";
        {
            core::Workspace workspace(directory);
            const auto addRun = [&](std::uint64_t seed, int bits, double perplexity) {
                core::RunConfig config = core::defaultRunConfig("gptq");
                config.model = "/models/m";
                config.weights.bits = bits;
                config.calibration.seed = seed;
                config.eval.texts = {"/data/brown_test.txt"};
                const std::int64_t id = workspace.catalog().createRun(
                    {"gptq w" + std::to_string(bits) + " calibration.seed=" + std::to_string(seed), "gptq",
                     core::runConfigToJson(config), "/models/m", "fp"});
                workspace.catalog().addDatasetMetrics(id, {{"brown_test", "perplexity", perplexity}});
                workspace.catalog().setRunStatus(id, core::RunStatus::Finished);
                return id;
            };
            addRun(0, 3, 10.0);
            addRun(1, 3, 12.0);
            addRun(2, 3, 14.0);
            addRun(0, 4, 9.0); // another config: a row of its own
        }
        app::RunsPanel panel;
        QVERIFY(panel.openWorkspace(QString::fromStdString(directory)));
        QCOMPARE(panel.model()->rowCount(), 4);
        panel.setGroupSeeds(true);
        new QAbstractItemModelTester(panel.model(), QAbstractItemModelTester::FailureReportingMode::QtTest, &panel);
        QCOMPARE(panel.model()->rowCount(), 2);
        const int row = panel.model()->rowOf(2);
        QCOMPARE(row, panel.model()->rowOf(1));
        const int column = panel.model()->perplexityColumn(0);
        QCOMPARE(panel.model()->index(row, column).data().toString(), QString("12.000 ± 2.000"));
        QCOMPARE(panel.model()->index(row, app::RunsTableModel::Name).data().toString(),
                 QString("gptq w3 (seeds 0,1,2)"));
        QCOMPARE(panel.model()->index(row, app::RunsTableModel::Status).data().toString(), QString("finished ×3"));
        QCOMPARE(panel.model()->index(panel.model()->rowOf(4), column).data().toString(), QString("9.000"));
        panel.selectRuns({2});
        QCOMPARE(panel.selectedRunIds(), (QList<qint64>{1, 2, 3}));
        panel.setGroupSeeds(false);
        QCOMPARE(panel.model()->rowCount(), 4);
        QCOMPARE(panel.selectedRunIds(), (QList<qint64>{1, 2, 3}));
    }

    void derivedRunsNameTheirParentAndTtaNumbersStandApart()
    {
        const std::string dir = m_dir + "/ws-tta";
        {
            core::Workspace workspace(dir);
            core::Catalog& catalog = workspace.catalog();
            const std::int64_t parent = catalog.createRun({"lrquant w4a4", "lrquant", "{}", "/m", "fp"});
            core::NewRun tta{"lrquant w4a4 TTA kjv_test", "lrquant", "{}", "/m", "fp"};
            tta.parentRunId = parent;
            tta.kind = core::RunKind::TestTimeAdapted;
            const std::int64_t child = catalog.createRun(tta);
            catalog.addDatasetMetrics(parent, {{"kjv_test", "perplexity", 130.5}});
            catalog.addDatasetMetrics(child, {{"kjv_test", "perplexity", 129.25}});
            core::NewRun orphan = tta;
            orphan.parentRunId = 99;
            QVERIFY_THROWS_EXCEPTION(core::Error, catalog.createRun(orphan));
        }
        app::RunsPanel panel;
        QVERIFY(panel.openWorkspace(QString::fromStdString(dir)));
        const auto* model = panel.model();
        const int method = app::RunsTableModel::Method, ppl = model->perplexityColumn(0);
        QCOMPARE(model->index(model->rowOf(1), method).data().toString(), QString("lrquant"));
        QCOMPARE(model->index(model->rowOf(2), method).data().toString(), QString("lrquant · TTA of #1"));
        QCOMPARE(model->index(model->rowOf(1), ppl).data().toString(), QString("130.500"));
        QCOMPARE(model->index(model->rowOf(2), ppl).data().toString(), QString("129.250 TTA"));
        QVERIFY(model->index(model->rowOf(2), ppl).data(Qt::ToolTipRole).toString().contains("TTA numbers only"));
        QCOMPARE(model->index(model->rowOf(2), ppl).data(app::RunsTableModel::SortRole).toDouble(), 129.25);
    }

    void filtersAndSortsNumerically()
    {
        app::RunsPanel panel;
        QVERIFY(panel.openWorkspace(QString::fromStdString(m_dir + "/ws")));
        panel.setFilterText("mse+SW");
        QCOMPARE(panel.filterModel()->rowCount(), 333);
        panel.setFilterText("failed");
        QCOMPARE(panel.filterModel()->rowCount(), 20);
        panel.setFilterText("");

        const int ppl = panel.model()->perplexityColumn(0);
        panel.view()->sortByColumn(ppl, Qt::AscendingOrder);
        double previous = 0.0;
        for (int row = 0; row < panel.filterModel()->rowCount(); ++row) {
            const double value = panel.filterModel()->index(row, ppl).data().toDouble();
            QVERIFY2(value >= previous, qPrintable(QString("row %1: %2 after %3").arg(row).arg(value).arg(previous)));
            previous = value;
        }
        QCOMPARE(previous, 19.9); // 9.9 would sort last as text
    }

    void editsReachTheCatalogAndKeepTheSelection()
    {
        const std::string directory = m_dir + "/edit";
        testsupport::fillWorkspaceWithRuns(directory, 6);
        app::RunsPanel panel;
        QVERIFY(panel.openWorkspace(QString::fromStdString(directory)));
        QSignalSpy selection(&panel, &app::RunsPanel::selectionChanged);
        panel.selectRuns({2, 5});
        QCOMPARE(panel.selectedRunIds(), (QList<qint64>{2, 5}));
        QVERIFY(!selection.isEmpty());

        panel.renameRun(2, "  baseline gptq ");
        panel.setRunTags(5, {"seed 0", " ", "sw "});
        QCOMPARE(panel.selectedRunIds(), (QList<qint64>{2, 5}));
        panel.deleteRuns({3});
        QCOMPARE(panel.model()->rowCount(), 5);

        const core::Workspace workspace(directory);
        QCOMPARE(workspace.catalog().run(2).name, std::string("baseline gptq"));
        QCOMPARE(workspace.catalog().run(5).tags, (std::vector<std::string>{"seed 0", "sw"}));
        QVERIFY(!workspace.catalog().findRun(3).has_value());
        panel.setFilterText("seed 0");
        QCOMPARE(panel.filterModel()->rowCount(), 1);

        // A workspace that cannot be opened is reported, not fatal.
        QSignalSpy messages(&panel, &app::RunsPanel::message);
        const std::string blocker = m_dir + "/a-file";
        std::FILE* file = std::fopen(blocker.c_str(), "w");
        std::fclose(file);
        QVERIFY(!panel.openWorkspace(QString::fromStdString(blocker)));
        QCOMPARE(messages.size(), 1);
        QVERIFY(messages.first().at(1).toBool());
        QCOMPARE(panel.model()->rowCount(), 5); // the previous workspace stays listed
    }
};

QTEST_MAIN(TestRunsPanel)
#include "test_runs_panel.moc"
