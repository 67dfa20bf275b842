// The run catalog, checked behind its back with a plain SQLite connection (NULLs, cascades,
// journal mode, schema), with a golden copy of the version-1 schema as it shipped for the
// migration, and with a real writer thread against readers for the concurrency claims.

#include "store/catalog.h"
#include "store/run_lock.h"
#include "store/workspace.h"

#include "util/error.h"

#include <QtTest>

#include <sqlite3.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <thread>

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Schema version 1 as it shipped, verbatim. Never edit it to follow catalog.cpp: if the
// migration test fails here, migration 1 was changed, and catalogs in the field no longer
// match what this build believes version 1 to be.
constexpr const char* kGoldenSchemaV1 = R"sql(
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    method TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
    config_json TEXT NOT NULL,
    model_path TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    seconds REAL,
    error_message TEXT
) STRICT;
CREATE TABLE dataset_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, dataset, metric)
) STRICT;
CREATE TABLE layer_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    layer TEXT NOT NULL,
    block INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, layer, metric)
) STRICT;
CREATE TABLE fp_baselines (
    model_fingerprint TEXT NOT NULL,
    dataset_fingerprint TEXT NOT NULL,
    seq_len INTEGER NOT NULL,
    max_windows INTEGER NOT NULL,
    perplexity REAL,
    tokens INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model_fingerprint, dataset_fingerprint, seq_len, max_windows)
) STRICT;
)sql";

// A version-1 catalog with one run in it, as an older Quantscope left it.
constexpr const char* kVersion1Rows = R"sql(
INSERT INTO runs VALUES (5, 'old run', 'gptq', 'finished', '{"bits":4}', '/models/brown-llama', 'sha256:aa',
    '2025-01-02T03:04:05Z', '2025-01-02T03:04:06Z', '2025-01-02T03:10:00Z', 354.5, NULL);
INSERT INTO dataset_metrics VALUES (5, 'wikitext2', 'perplexity', 12.5), (5, 'c4', 'perplexity', NULL);
INSERT INTO layer_metrics VALUES (5, 'model.layers.0.mlp.down_proj', 0, 'rel_error', 0.02);
INSERT INTO fp_baselines VALUES ('sha256:aa', 'sha256:dd', 128, 40, 11.75, 5120, '2025-01-02T03:00:00Z');
PRAGMA user_version = 1;
)sql";

QString qs(const std::string& text)
{
    return QString::fromStdString(text);
}

QStringList qs(const std::vector<std::string>& texts)
{
    QStringList list;
    for (const std::string& text : texts)
        list << qs(text);
    return list;
}

// A plain SQLite connection, to look at the file behind the Catalog's back.
class RawDb {
public:
    explicit RawDb(const std::string& path)
    {
        sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    }
    ~RawDb() { sqlite3_close_v2(m_db); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    /// Runs `sql` (several statements allowed); SQLite's error message, or "" on success.
    QString exec(const char* sql)
    {
        char* message = nullptr;
        if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) == SQLITE_OK)
            return {};
        QString error = QString::fromUtf8(message ? message : sqlite3_errmsg(m_db));
        sqlite3_free(message);
        return error;
    }

    /// The first column of the first row: qint64, double, QString, or an invalid QVariant
    /// for NULL, no row or an error.
    QVariant scalar(const char* sql)
    {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(m_db, sql, -1, &statement, nullptr) != SQLITE_OK)
            return {};
        QVariant value;
        if (sqlite3_step(statement) == SQLITE_ROW) {
            switch (sqlite3_column_type(statement, 0)) {
            case SQLITE_INTEGER:
                value = qint64(sqlite3_column_int64(statement, 0));
                break;
            case SQLITE_FLOAT:
                value = sqlite3_column_double(statement, 0);
                break;
            case SQLITE_TEXT:
                value = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
                break;
            default:
                break;
            }
        }
        sqlite3_finalize(statement);
        return value;
    }

    qint64 count(const char* sql) { return scalar(sql).toLongLong(); }

private:
    sqlite3* m_db = nullptr;
};

/// The message of the core::Error that `action` throws, or a marker that never matches.
QString errorOf(const std::function<void()>& action)
{
    try {
        action();
    } catch (const core::Error& error) {
        return QString::fromUtf8(error.what());
    }
    return QStringLiteral("<no core::Error thrown>");
}

QByteArray fileBytes(const std::string& path)
{
    QFile file(qs(path));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const std::string& path, const QByteArray& bytes)
{
    QFile file(qs(path));
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

core::NewRun sampleRun(const std::string& name)
{
    return {name, "gptq", R"({"bits":4,"group_size":128})", "/models/brown-llama", "sha256:1234"};
}

QString statusOf(const core::RunRecord& run)
{
    return qs(core::runStatusName(run.status));
}

/// "" when `stamp` is ISO 8601 UTC to the second and within a minute of now, else why not.
QString checkRecentUtc(const std::string& stamp)
{
    static const QRegularExpression format(QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)"));
    if (!format.match(qs(stamp)).hasMatch())
        return QStringLiteral("'%1' is not YYYY-MM-DDTHH:MM:SSZ").arg(qs(stamp));
    const QDateTime time = QDateTime::fromString(qs(stamp), Qt::ISODate);
    const qint64 age = time.secsTo(QDateTime::currentDateTimeUtc());
    if (!time.isValid() || age < -60 || age > 60)
        return QStringLiteral("'%1' is not the current UTC time").arg(qs(stamp));
    return {};
}

} // namespace

class TestCatalog : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    // A run left `running` by a process that died is marked failed when the workspace is next
    // opened for writing; one whose job still holds its lock is left alone.
    void interruptedRunsAreMarked()
    {
        const std::string dir = m_dir->path().toStdString() + "/ws";
        std::int64_t killed = 0, legacy = 0, alive = 0, finished = 0;
        {
            core::Workspace workspace(dir);
            for (std::int64_t* id : {&killed, &legacy, &alive, &finished}) {
                *id = workspace.catalog().createRun({"run", "rtn", "{}", "/models/m", "fingerprint"});
                std::filesystem::create_directories(workspace.runDirectory(*id));
                workspace.catalog().setRunStatus(*id, core::RunStatus::Running);
            }
            workspace.catalog().setRunStatus(finished, core::RunStatus::Finished);
            core::RunLock released(workspace.runDirectory(killed)); // the job held it, then died
        }
        const core::Workspace reader(dir, core::OpenMode::ReadOnly); // read-only: marks nothing
        QCOMPARE(reader.catalog().run(killed).status, core::RunStatus::Running);
        const core::RunLock running(reader.runDirectory(alive));
        QVERIFY(core::runLockHeld(reader.runDirectory(alive)));
        QVERIFY(!core::runLockHeld(reader.runDirectory(killed)));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::RunLock(reader.runDirectory(alive))); // one job per run

        core::Workspace workspace(dir);
        for (const std::int64_t id : {killed, legacy}) {
            QCOMPARE(workspace.catalog().run(id).status, core::RunStatus::Failed);
            QVERIFY(workspace.catalog().run(id).errorMessage.find("interrupted") == 0);
        }
        QCOMPARE(workspace.catalog().run(alive).status, core::RunStatus::Running);
        QCOMPARE(workspace.catalog().run(finished).status, core::RunStatus::Finished);
        QCOMPARE(workspace.markInterruptedRuns(), 0);
    }

    void statusNames_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("name");
        QTest::newRow("queued") << int(core::RunStatus::Queued) << "queued";
        QTest::newRow("running") << int(core::RunStatus::Running) << "running";
        QTest::newRow("finished") << int(core::RunStatus::Finished) << "finished";
        QTest::newRow("failed") << int(core::RunStatus::Failed) << "failed";
        QTest::newRow("cancelled") << int(core::RunStatus::Cancelled) << "cancelled";
    }

    void statusNames()
    {
        QFETCH(int, status);
        QFETCH(QString, name);
        QCOMPARE(qs(core::runStatusName(core::RunStatus(status))), name);
        QCOMPARE(int(core::parseRunStatus(name.toStdString())), status);
    }

    void parseRunStatusRejects_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("unknown") << "done";
        QTest::newRow("capitalised") << "Running";
        QTest::newRow("padded") << " queued";
        QTest::newRow("empty") << "";
    }

    void parseRunStatusRejects()
    {
        QFETCH(QString, name);
        const QString error = errorOf([&] { core::parseRunStatus(name.toStdString()); });
        QVERIFY2(error.contains("'" + name + "'"), qPrintable(error));
    }

    void createsCatalog_data()
    {
        QTest::addColumn<bool>("emptyFileFirst");
        QTest::newRow("missing file") << false;
        QTest::newRow("empty file") << true;
    }

    void createsCatalog()
    {
        QFETCH(bool, emptyFileFirst);
        const std::string file = path();
        if (emptyFileFirst)
            QVERIFY(writeFile(file, {}));
        {
            const core::Catalog catalog(file);
            QCOMPARE(catalog.schemaVersion(), core::Catalog::kSchemaVersion);
            QCOMPARE(qs(catalog.path()), qs(file));
            QVERIFY(catalog.listRuns().empty());
        }
        RawDb raw(file);
        QCOMPARE(raw.scalar("PRAGMA journal_mode").toString(), "wal"); // persistent, so visible to others
        QCOMPARE(raw.count("PRAGMA user_version"), 5);
        QCOMPARE(raw.count("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                           "('runs', 'dataset_metrics', 'layer_metrics', 'fp_baselines', 'run_tags', 'run_metrics')"),
                 6);
    }

    void missingDirectoryOrFile()
    {
        const std::string inMissingDir = m_dir->filePath("nowhere/catalog.sqlite").toStdString();
        QString error = errorOf([&] { core::Catalog catalog(inMissingDir); });
        QVERIFY2(error.contains(qs(inMissingDir)) && error.contains("does not exist"), qPrintable(error));

        const std::string missing = path();
        error = errorOf([&] { core::Catalog catalog(missing, core::OpenMode::ReadOnly); });
        QVERIFY2(error.contains(qs(missing)), qPrintable(error));
        QVERIFY(!QFile::exists(qs(missing))); // read-only never creates
    }

    void createFindAndList()
    {
        core::Catalog catalog(path());
        const std::int64_t first = catalog.createRun(sampleRun("rtn 4 bit"));
        core::NewRun second = sampleRun("gptq 3 bit");
        second.method = "rtn";
        second.configJson = R"({"bits":3})";
        second.modelPath = "/other/model";
        second.modelFingerprint = "sha256:5678";
        const std::int64_t secondId = catalog.createRun(second);
        QVERIFY(secondId > first);

        const core::RunRecord run = catalog.run(secondId);
        QCOMPARE(run.id, secondId);
        QCOMPARE(qs(run.name), "gptq 3 bit");
        QCOMPARE(qs(run.method), "rtn");
        QCOMPARE(statusOf(run), "queued");
        QCOMPARE(qs(run.configJson), R"({"bits":3})");
        QCOMPARE(qs(run.modelPath), "/other/model");
        QCOMPARE(qs(run.modelFingerprint), "sha256:5678");
        const QString created = checkRecentUtc(run.createdAt);
        QVERIFY2(created.isEmpty(), qPrintable(created));
        QVERIFY(run.startedAt.empty() && run.finishedAt.empty() && run.errorMessage.empty());
        QVERIFY(std::isnan(run.seconds));
        QVERIFY(run.tags.empty());

        const std::vector<core::RunRecord> runs = catalog.listRuns();
        QCOMPARE(runs.size(), std::size_t(2));
        QCOMPARE(runs[0].id, first);
        QCOMPARE(qs(runs[0].name), "rtn 4 bit");
        QCOMPARE(runs[1].id, secondId);
        QVERIFY(catalog.findRun(first).has_value());
        QVERIFY(!catalog.findRun(secondId + 1).has_value());

        // Names are bound, never spliced into SQL.
        catalog.renameRun(first, "it's \"quoted\"; DROP TABLE runs; --");
        QCOMPARE(qs(catalog.run(first).name), "it's \"quoted\"; DROP TABLE runs; --");
        QCOMPARE(catalog.listRuns().size(), std::size_t(2));
    }

    void statusTransitions_data()
    {
        QTest::addColumn<int>("terminal");
        QTest::addColumn<QString>("message");
        QTest::newRow("finished") << int(core::RunStatus::Finished) << "";
        QTest::newRow("failed") << int(core::RunStatus::Failed) << "out of memory in block 3";
        QTest::newRow("cancelled") << int(core::RunStatus::Cancelled) << "";
    }

    void statusTransitions()
    {
        QFETCH(int, terminal);
        QFETCH(QString, message);
        core::Catalog catalog(path());
        const std::int64_t id = catalog.createRun(sampleRun("a"));

        catalog.setRunStatus(id, core::RunStatus::Running);
        core::RunRecord run = catalog.run(id);
        QCOMPARE(statusOf(run), "running");
        const QString started = checkRecentUtc(run.startedAt);
        QVERIFY2(started.isEmpty(), qPrintable(started));
        QVERIFY(run.finishedAt.empty());

        catalog.setRunStatus(id, core::RunStatus(terminal), message.toStdString());
        catalog.setRunSeconds(id, 12.5);
        run = catalog.run(id);
        QCOMPARE(int(run.status), terminal);
        QCOMPARE(qs(run.errorMessage), message);
        QVERIFY(!run.startedAt.empty()); // kept from Running
        const QString finished = checkRecentUtc(run.finishedAt);
        QVERIFY2(finished.isEmpty(), qPrintable(finished));
        QVERIFY(run.startedAt <= run.finishedAt); // ISO 8601 UTC sorts as text
        QCOMPARE(run.seconds, 12.5);

        // Queued again (a retry): neither started nor finished, no stale error.
        catalog.setRunStatus(id, core::RunStatus::Queued);
        run = catalog.run(id);
        QCOMPARE(statusOf(run), "queued");
        QVERIFY(run.startedAt.empty() && run.finishedAt.empty() && run.errorMessage.empty());
    }

    void failAbandonedRuns()
    {
        core::Catalog catalog(path());
        std::vector<std::int64_t> ids;
        for (core::RunStatus status : {core::RunStatus::Queued, core::RunStatus::Running, core::RunStatus::Finished,
                                       core::RunStatus::Failed, core::RunStatus::Cancelled}) {
            ids.push_back(catalog.createRun(sampleRun(core::runStatusName(status))));
            catalog.setRunStatus(ids.back(), status, status == core::RunStatus::Failed ? "diverged" : "");
        }
        QCOMPARE(catalog.failAbandonedRuns(), 2);
        const QStringList expectedStatus{"failed", "failed", "finished", "failed", "cancelled"};
        const QStringList expectedMessage{"interrupted", "interrupted", "", "diverged", ""};
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const core::RunRecord run = catalog.run(ids[i]);
            QCOMPARE(statusOf(run), expectedStatus[qsizetype(i)]);
            QCOMPARE(qs(run.errorMessage), expectedMessage[qsizetype(i)]);
            QVERIFY(!run.finishedAt.empty());
        }
        QCOMPARE(catalog.failAbandonedRuns(), 0);
    }

    void metricValuesRoundTrip_data()
    {
        QTest::addColumn<double>("value");
        QTest::newRow("ordinary") << 12.25;
        QTest::newRow("zero") << 0.0;
        QTest::newRow("negative") << -3.5;
        QTest::newRow("largest") << std::numeric_limits<double>::max();
        QTest::newRow("smallest subnormal") << std::numeric_limits<double>::denorm_min();
        QTest::newRow("NaN") << kNaN;
        QTest::newRow("+inf") << kInf;
        QTest::newRow("-inf") << -kInf;
    }

    void metricValuesRoundTrip()
    {
        QFETCH(double, value);
        const bool finite = std::isfinite(value);
        const std::string file = path();
        core::Catalog catalog(file);
        const std::int64_t id = catalog.createRun(sampleRun("a"));
        const core::FpBaselineKey key{"sha256:1234", "sha256:data", 128, 40};
        catalog.addDatasetMetrics(id, {{"wikitext2", "perplexity", value}});
        catalog.addLayerMetrics(id, {{"model.layers.0.self_attn.q_proj", 0, "rel_error", value}});
        catalog.setRunSeconds(id, value);
        catalog.storeFpBaseline(key, {value, 5120});

        const std::vector<double> readBack{catalog.datasetMetrics(id).at(0).value, catalog.layerMetrics(id).at(0).value,
                                           catalog.run(id).seconds, catalog.findFpBaseline(key)->perplexity};
        for (double read : readBack) {
            // Bit-exact for finite values (no fuzzy QCOMPARE); NaN for the rest.
            QVERIFY2(finite ? read == value : std::isnan(read), qPrintable(QString::number(read)));
        }

        RawDb raw(file);
        const qint64 nulls = finite ? 0 : 1;
        QCOMPARE(raw.count("SELECT count(*) FROM dataset_metrics WHERE value IS NULL"), nulls);
        QCOMPARE(raw.count("SELECT count(*) FROM layer_metrics WHERE value IS NULL"), nulls);
        QCOMPARE(raw.count("SELECT count(*) FROM runs WHERE seconds IS NULL"), nulls);
        QCOMPARE(raw.count("SELECT count(*) FROM fp_baselines WHERE perplexity IS NULL"), nulls);
    }

    void datasetMetricsOrderAndReplace()
    {
        core::Catalog catalog(path());
        const std::int64_t id = catalog.createRun(sampleRun("a"));
        const std::int64_t other = catalog.createRun(sampleRun("b"));
        catalog.addDatasetMetrics(id,
                                  {{"wikitext2", "perplexity", 9.5}, {"c4", "perplexity", 14.0}, {"c4", "acc", 0.5}});
        catalog.addDatasetMetrics(other, {{"c4", "perplexity", 99.0}});
        catalog.addDatasetMetrics(id, {{"c4", "perplexity", 13.0}}); // replaces

        const std::vector<core::DatasetMetric> metrics = catalog.datasetMetrics(id);
        QCOMPARE(metrics.size(), std::size_t(3));
        QStringList order;
        for (const core::DatasetMetric& metric : metrics)
            order << qs(metric.dataset + "/" + metric.metric);
        QCOMPARE(order, QStringList({"c4/acc", "c4/perplexity", "wikitext2/perplexity"}));
        QCOMPARE(metrics[1].value, 13.0);
        QCOMPARE(catalog.datasetMetrics(other).size(), std::size_t(1));
        QVERIFY(catalog.datasetMetrics(catalog.createRun(sampleRun("c"))).empty());
    }

    void layerMetricsOrder()
    {
        core::Catalog catalog(path());
        const std::int64_t id = catalog.createRun(sampleRun("a"));
        catalog.addLayerMetrics(id, {{"layers.1.q", 1, "err", 1.0},
                                     {"layers.0.v", 0, "err", 2.0},
                                     {"layers.0.q", 0, "err", 3.0},
                                     {"layers.1.k", 1, "err", 4.0}});
        auto names = [&] {
            QStringList list;
            for (const core::LayerMetric& metric : catalog.layerMetrics(id))
                list << QStringLiteral("%1:%2=%3").arg(metric.block).arg(qs(metric.layer)).arg(metric.value);
            return list;
        };
        // By block, then in the order written (pipelines write layers in execution order).
        QCOMPARE(names(), QStringList({"0:layers.0.v=2", "0:layers.0.q=3", "1:layers.1.q=1", "1:layers.1.k=4"}));
        catalog.addLayerMetrics(id, {{"layers.0.v", 0, "err", 7.0}}); // replaced: moves to the end of its block
        QCOMPARE(names(), QStringList({"0:layers.0.q=3", "0:layers.0.v=7", "1:layers.1.q=1", "1:layers.1.k=4"}));
    }

    void metricBatchesAreAtomic()
    {
        const std::string file = path();
        core::Catalog catalog(file);
        const std::int64_t id = catalog.createRun(sampleRun("a"));
        RawDb raw(file);
        QCOMPARE(raw.exec("CREATE TRIGGER reject BEFORE INSERT ON layer_metrics WHEN NEW.layer = 'bad' "
                          "BEGIN SELECT RAISE(ABORT, 'rejected by test'); END"),
                 QString());
        const QString error = errorOf([&] {
            catalog.addLayerMetrics(id, {{"good.0", 0, "err", 1.0}, {"good.1", 0, "err", 1.0}, {"bad", 1, "err", 1.0}});
        });
        QVERIFY2(error.contains("rejected by test") && error.contains(qs(file)), qPrintable(error));
        QVERIFY(catalog.layerMetrics(id).empty()); // the two good rows went with the bad one
        QCOMPARE(raw.exec("DROP TRIGGER reject"), QString());
        catalog.addLayerMetrics(id, {{"good.0", 0, "err", 1.0}}); // and the catalog is usable again
        QCOMPARE(catalog.layerMetrics(id).size(), std::size_t(1));
    }

    void deleteCascades()
    {
        const std::string file = path();
        core::Catalog catalog(file);
        const std::int64_t doomed = catalog.createRun(sampleRun("doomed"));
        const std::int64_t kept = catalog.createRun(sampleRun("kept"));
        for (std::int64_t id : {doomed, kept}) {
            catalog.addDatasetMetrics(id, {{"wikitext2", "perplexity", 10.0}, {"c4", "perplexity", 12.0}});
            catalog.addLayerMetrics(id, {{"layers.0.q", 0, "err", 0.1}, {"layers.0.k", 0, "err", 0.2}});
            catalog.setRunTags(id, {"sweep"});
        }
        catalog.deleteRun(doomed);

        QVERIFY(!catalog.findRun(doomed).has_value());
        RawDb raw(file);
        for (const char* table : {"dataset_metrics", "layer_metrics", "run_tags"}) {
            const QByteArray sql =
                QByteArray("SELECT count(*) FROM ") + table + " WHERE run_id = " + QByteArray::number(qint64(doomed));
            QCOMPARE(raw.count(sql.constData()), 0);
        }
        QCOMPARE(catalog.datasetMetrics(kept).size(), std::size_t(2));
        QCOMPARE(catalog.layerMetrics(kept).size(), std::size_t(2));
        QCOMPARE(qs(catalog.run(kept).tags), QStringList{"sweep"});
        const QString error = errorOf([&] { catalog.deleteRun(doomed); });
        QVERIFY2(error.contains(QStringLiteral("run %1 not found in %2").arg(doomed).arg(qs(file))), qPrintable(error));
    }

    void tags()
    {
        core::Catalog catalog(path());
        std::vector<std::int64_t> ids;
        for (const char* name : {"a", "b", "c", "d"})
            ids.push_back(catalog.createRun(sampleRun(name)));
        catalog.setRunTags(ids[0], {"sweep", "4bit", "sweep"});
        catalog.setRunTags(ids[2], {"baseline"});
        catalog.setRunTags(ids[3], {"gone"});
        catalog.setRunTags(ids[3], {}); // replaces, so clears

        QCOMPARE(qs(catalog.run(ids[0]).tags), QStringList({"4bit", "sweep"}));
        const std::vector<core::RunRecord> runs = catalog.listRuns(); // tags merged from one query
        QCOMPARE(runs.size(), std::size_t(4));
        QCOMPARE(qs(runs[0].tags), QStringList({"4bit", "sweep"}));
        QCOMPARE(qs(runs[1].tags), QStringList());
        QCOMPARE(qs(runs[2].tags), QStringList({"baseline"}));
        QCOMPARE(qs(runs[3].tags), QStringList());

        const QString error = errorOf([&] { catalog.setRunTags(ids[2], {"ok", ""}); });
        QVERIFY2(error.contains("empty tag"), qPrintable(error));
        QCOMPARE(qs(catalog.run(ids[2]).tags), QStringList({"baseline"}));
    }

    void unknownRunIds()
    {
        const std::string file = path();
        core::Catalog catalog(file);
        catalog.createRun(sampleRun("exists"));
        const std::int64_t missing = 42;
        const std::vector<core::DatasetMetric> datasetRows{{"wikitext2", "perplexity", 1.0}};
        const std::vector<core::LayerMetric> layerRows{{"layers.0.q", 0, "err", 1.0}};
        const std::vector<std::pair<const char*, std::function<void()>>> calls{
            {"run", [&] { catalog.run(missing); }},
            {"setRunStatus", [&] { catalog.setRunStatus(missing, core::RunStatus::Running); }},
            {"setRunSeconds", [&] { catalog.setRunSeconds(missing, 1.0); }},
            {"renameRun", [&] { catalog.renameRun(missing, "x"); }},
            {"setRunTags", [&] { catalog.setRunTags(missing, {"x"}); }},
            {"deleteRun", [&] { catalog.deleteRun(missing); }},
            {"addDatasetMetrics", [&] { catalog.addDatasetMetrics(missing, datasetRows); }},
            {"addLayerMetrics", [&] { catalog.addLayerMetrics(missing, layerRows); }},
            {"datasetMetrics", [&] { catalog.datasetMetrics(missing); }},
            {"layerMetrics", [&] { catalog.layerMetrics(missing); }},
        };
        const QString expected = QStringLiteral("run 42 not found in %1").arg(qs(file));
        for (const auto& [name, call] : calls) {
            const QString error = errorOf(call);
            QVERIFY2(error == expected, qPrintable(QStringLiteral("%1: %2").arg(name, error)));
        }
        QVERIFY(!catalog.findRun(missing).has_value());
        QCOMPARE(catalog.listRuns().size(), std::size_t(1));
    }

    void fpBaselines_data()
    {
        QTest::addColumn<QString>("differs");
        QTest::newRow("model") << "model";
        QTest::newRow("dataset") << "dataset";
        QTest::newRow("seq_len") << "seq_len";
        QTest::newRow("max_windows") << "max_windows";
    }

    void fpBaselines()
    {
        QFETCH(QString, differs);
        core::Catalog catalog(path());
        const core::FpBaselineKey key{"sha256:model", "sha256:data", 128, 40};
        QVERIFY(!catalog.findFpBaseline(key).has_value());
        catalog.storeFpBaseline(key, {11.75, 5120});

        core::FpBaselineKey other = key; // one field off: a different evaluation
        if (differs == "model")
            other.modelFingerprint = "sha256:other";
        else if (differs == "dataset")
            other.datasetFingerprint = "sha256:other";
        else if (differs == "seq_len")
            other.seqLen = 256;
        else
            other.maxWindows = 0;
        QVERIFY(!catalog.findFpBaseline(other).has_value());

        std::optional<core::FpBaseline> found = catalog.findFpBaseline(key);
        QVERIFY(found.has_value());
        QCOMPARE(found->perplexity, 11.75);
        QCOMPARE(found->tokens, std::int64_t(5120));
        catalog.storeFpBaseline(key, {11.5, 6000}); // replaces
        found = catalog.findFpBaseline(key);
        QCOMPARE(found->perplexity, 11.5);
        QCOMPARE(found->tokens, std::int64_t(6000));
    }

    void schemaConstraints_data()
    {
        QTest::addColumn<QByteArray>("sql");
        QTest::addColumn<QString>("expected");
        QTest::newRow("status enum") << QByteArray("UPDATE runs SET status = 'done'") << "CHECK constraint failed";
        QTest::newRow("strict REAL") << QByteArray("UPDATE runs SET seconds = 'slow'") << "cannot store TEXT value";
        QTest::newRow("strict INTEGER") << QByteArray("INSERT INTO layer_metrics VALUES (1, 'l', 'three', 'm', 1.0)")
                                        << "cannot store TEXT value";
        QTest::newRow("foreign key") << QByteArray("INSERT INTO dataset_metrics VALUES (99, 'd', 'm', 1.0)")
                                     << "FOREIGN KEY constraint failed";
        QTest::newRow("tag foreign key") << QByteArray("INSERT INTO run_tags VALUES (99, 't')")
                                         << "FOREIGN KEY constraint failed";
    }

    void schemaConstraints()
    {
        QFETCH(QByteArray, sql);
        QFETCH(QString, expected);
        const std::string file = path();
        core::Catalog catalog(file);
        QCOMPARE(catalog.createRun(sampleRun("a")), std::int64_t(1));
        RawDb raw(file);
        QCOMPARE(raw.exec("PRAGMA foreign_keys = ON"), QString());
        const QString error = raw.exec(sql.constData());
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void migratesVersion1()
    {
        const std::string file = path();
        {
            RawDb raw(file);
            QCOMPARE(raw.exec(kGoldenSchemaV1), QString());
            QCOMPARE(raw.exec(kVersion1Rows), QString());
        }
        core::Catalog catalog(file);
        QCOMPARE(catalog.schemaVersion(), 5);

        const core::RunRecord run = catalog.run(5);
        QCOMPARE(qs(run.name), "old run");
        QCOMPARE(statusOf(run), "finished");
        QCOMPARE(qs(run.configJson), R"({"bits":4})");
        QCOMPARE(qs(run.finishedAt), "2025-01-02T03:10:00Z");
        QCOMPARE(run.seconds, 354.5);
        QVERIFY(run.tags.empty());
        const std::vector<core::DatasetMetric> metrics = catalog.datasetMetrics(5);
        QCOMPARE(metrics.size(), std::size_t(2));
        QVERIFY(std::isnan(metrics[0].value)); // c4 sorts first; its NULL reads as NaN
        QCOMPARE(metrics[1].value, 12.5);
        QCOMPARE(qs(catalog.layerMetrics(5).at(0).layer), "model.layers.0.mlp.down_proj");
        QCOMPARE(catalog.findFpBaseline({"sha256:aa", "sha256:dd", 128, 40})->tokens, std::int64_t(5120));

        catalog.setRunTags(5, {"legacy"});
        QCOMPARE(qs(catalog.run(5).tags), QStringList{"legacy"});
        QCOMPARE(catalog.createRun(sampleRun("new")), std::int64_t(6));

        // Version 3's run metrics work on the upgraded catalog.
        catalog.addRunMetrics(5, {{"effective_bits", 2.25}});
        QCOMPARE(catalog.runMetrics(5).at("effective_bits"), 2.25);
        QCOMPARE(catalog.runMetricOfAllRuns("effective_bits").at(5), 2.25);

        // Version 4: an old run is a plain calibration without a parent; a derived run links to it.
        QVERIFY(catalog.run(5).kind == core::RunKind::Ptq && catalog.run(5).parentRunId == 0);
        core::NewRun derived = sampleRun("adapted");
        derived.parentRunId = 5;
        derived.kind = core::RunKind::TestTimeAdapted;
        const std::int64_t child = catalog.createRun(derived);
        QCOMPARE(catalog.run(child).parentRunId, std::int64_t(5));
        QVERIFY(catalog.run(child).kind == core::RunKind::TestTimeAdapted);
        catalog.deleteRun(5); // the child stays, without a parent
        QCOMPARE(catalog.run(child).parentRunId, std::int64_t(0));

        // Version 5: task metrics on the upgraded catalog, NaN stderr read back as NaN.
        catalog.addTaskMetrics(child, {{"hellaswag", "acc_norm", 0.5, NAN, 10, true}});
        const auto tasks = catalog.taskMetrics(child);
        QCOMPARE(tasks.size(), std::size_t(1));
        QCOMPARE(tasks[0].value, 0.5);
        QVERIFY(std::isnan(tasks[0].standardError));
        QVERIFY(tasks[0].reported);
        QCOMPARE(catalog.taskMetricsOfAllRuns().at(child).at(0).documents, std::int64_t(10));
        catalog.deleteRun(child);
        QVERIFY(catalog.taskMetricsOfAllRuns().empty());

        RawDb raw(file);
        QCOMPARE(raw.count("PRAGMA user_version"), 5);
        QCOMPARE(raw.count("SELECT count(*) FROM sqlite_schema WHERE name IN ('run_tags', 'layer_metrics_by_metric', "
                           "'run_metrics')"),
                 3);
        QCOMPARE(raw.scalar("PRAGMA journal_mode").toString(), "wal");
    }

    void failedMigrationChangesNothing()
    {
        const std::string file = path();
        {
            RawDb raw(file);
            QCOMPARE(raw.exec(kGoldenSchemaV1), QString());
            QCOMPARE(raw.exec(kVersion1Rows), QString());
            // Takes the name of migration 2's index, so migration 2 fails on its second
            // statement, after run_tags was created.
            QCOMPARE(raw.exec("CREATE INDEX layer_metrics_by_metric ON runs(name)"), QString());
        }
        const QString error = errorOf([&] { core::Catalog catalog(file); });
        QVERIFY2(error.contains(qs(file)) && error.contains("schema version 2") && error.contains("already exists"),
                 qPrintable(error));
        RawDb raw(file);
        QCOMPARE(raw.count("PRAGMA user_version"), 1);
        QCOMPARE(raw.count("SELECT count(*) FROM sqlite_schema WHERE name = 'run_tags'"), 0);
        QCOMPARE(raw.count("SELECT count(*) FROM runs"), 1);
        QCOMPARE(raw.count("SELECT count(*) FROM dataset_metrics"), 2);
    }

    void rejectsNewerVersion_data()
    {
        QTest::addColumn<bool>("madeByCatalog");
        QTest::newRow("WAL catalog") << true;
        QTest::newRow("rollback-journal file") << false;
    }

    void rejectsNewerVersion()
    {
        QFETCH(bool, madeByCatalog);
        const std::string file = path();
        if (madeByCatalog) {
            core::Catalog catalog(file);
            catalog.createRun(sampleRun("a"));
        }
        {
            RawDb raw(file);
            if (!madeByCatalog)
                QCOMPARE(raw.exec(kGoldenSchemaV1), QString());
            QCOMPARE(raw.exec("PRAGMA user_version = 99"), QString());
        }
        const QByteArray before = fileBytes(file);
        QVERIFY(!before.isEmpty());
        for (core::OpenMode mode : {core::OpenMode::ReadWrite, core::OpenMode::ReadOnly}) {
            const QString error = errorOf([&] { core::Catalog catalog(file, mode); });
            QVERIFY2(error.startsWith(qs(file)) && error.contains("newer") && error.contains("schema version 99"),
                     qPrintable(error));
            QVERIFY(fileBytes(file) == before);
        }
    }

    void rejectsForeignFiles_data()
    {
        QTest::addColumn<QByteArray>("contents");
        std::mt19937 random(7);
        QByteArray noise(4096, '\0');
        for (char& byte : noise)
            byte = char(random() & 0xff);
        QTest::newRow("random bytes") << noise;
        QTest::newRow("text") << QByteArray("dataset,metric,value\nwikitext2,perplexity,12.5\n");
        QTest::newRow("one byte") << QByteArray("x"); // SQLite alone would take it for an empty database

        // Another program's SQLite database: valid SQLite, but schema version 0 with tables.
        QTemporaryDir elsewhere;
        const std::string other = elsewhere.filePath("other.sqlite").toStdString();
        {
            RawDb raw(other);
            raw.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');");
        }
        QTest::newRow("other SQLite database") << fileBytes(other);
    }

    void rejectsForeignFiles()
    {
        QFETCH(QByteArray, contents);
        QVERIFY(!contents.isEmpty());
        const std::string file = path();
        QVERIFY(writeFile(file, contents));
        for (core::OpenMode mode : {core::OpenMode::ReadWrite, core::OpenMode::ReadOnly}) {
            const QString error = errorOf([&] { core::Catalog catalog(file, mode); });
            QVERIFY2(error.startsWith(qs(file) + ": not a Quantscope catalog"), qPrintable(error));
            QVERIFY(fileBytes(file) == contents);
        }
    }

    void readOnlyMode()
    {
        const std::string file = path();
        {
            RawDb raw(file);
            QCOMPARE(raw.exec(kGoldenSchemaV1), QString());
            QCOMPARE(raw.exec(kVersion1Rows), QString());
        }
        const QByteArray version1 = fileBytes(file);
        QString error = errorOf([&] { core::Catalog catalog(file, core::OpenMode::ReadOnly); });
        QVERIFY2(error.contains(qs(file)) && error.contains("open it read-write"), qPrintable(error));
        QVERIFY(fileBytes(file) == version1); // never migrates

        {
            core::Catalog upgrade(file);
        }
        core::Catalog viewer(file, core::OpenMode::ReadOnly);
        QCOMPARE(viewer.schemaVersion(), 5);
        QCOMPARE(qs(viewer.run(5).name), "old run");
        error = errorOf([&] { viewer.createRun(sampleRun("x")); });
        QVERIFY2(error.contains(qs(file)) && error.contains("read-only"), qPrintable(error));
        error = errorOf([&] { viewer.setRunStatus(5, core::RunStatus::Failed); });
        QVERIFY2(error.contains("read-only"), qPrintable(error));
        QCOMPARE(statusOf(viewer.run(5)), "finished");
    }

    void lockedWriteReportsLock()
    {
        const std::string file = path();
        core::Catalog catalog(file);
        const std::int64_t id = catalog.createRun(sampleRun("before"));
        RawDb other(file);
        QCOMPARE(other.exec("BEGIN EXCLUSIVE"), QString());
        catalog.setBusyTimeoutMs(100);

        QElapsedTimer timer;
        timer.start();
        const QString error = errorOf([&] { catalog.renameRun(id, "after"); });
        QVERIFY2(error.startsWith(qs(file) + " is locked by another process"), qPrintable(error));
        QVERIFY2(timer.elapsed() >= 80, "a write should wait for the busy timeout before giving up");
        QCOMPARE(qs(catalog.run(id).name), "before"); // WAL: reading goes on meanwhile

        QCOMPARE(other.exec("ROLLBACK"), QString());
        catalog.renameRun(id, "after");
        QCOMPARE(qs(catalog.run(id).name), "after");
    }

    void readersWhileWriterWrites()
    {
        constexpr int kRuns = 200;
        constexpr std::size_t kMetricsPerRun = 50;
        const std::string file = path();
        {
            core::Catalog create(file);
        } // the readers must find a catalog from the start

        std::atomic<bool> writerDone{false};
        QString writerError;
        std::thread writer([&] {
            try {
                core::Catalog catalog(file);
                for (int r = 0; r < kRuns; ++r) {
                    const std::int64_t id = catalog.createRun(sampleRun("run " + std::to_string(r)));
                    std::vector<core::LayerMetric> metrics;
                    for (std::size_t m = 0; m < kMetricsPerRun; ++m)
                        metrics.push_back(
                            {"layers." + std::to_string(m), std::int64_t(m / 7), "rel_error", 0.01 * double(m)});
                    catalog.addLayerMetrics(id, metrics);
                }
            } catch (const std::exception& exception) {
                writerError = QString::fromUtf8(exception.what());
            }
            writerDone = true;
        });

        // No QVERIFY until the writer is joined: returning early would destroy a joinable thread.
        QStringList problems;
        std::size_t seen = 0;
        int reads = 0, readsDuringWrites = 0;
        try {
            for (bool last = false; !last; ++reads) {
                last = writerDone.load(); // read before opening: this snapshot then follows every write
                const core::Catalog reader(file, reads % 2 ? core::OpenMode::ReadWrite : core::OpenMode::ReadOnly);
                const std::vector<core::RunRecord> runs = reader.listRuns();
                if (runs.size() < seen)
                    problems << QStringLiteral("run count went from %1 to %2").arg(seen).arg(runs.size());
                seen = runs.size();
                readsDuringWrites += seen > 0 && seen < std::size_t(kRuns) ? 1 : 0;
                // Metrics are one transaction: a run has all of them, or (only the newest,
                // between its two transactions) none yet.
                for (std::size_t i = seen > 3 ? seen - 3 : 0; i < seen; ++i) {
                    const std::size_t count = reader.layerMetrics(runs[i].id).size();
                    if (count != kMetricsPerRun && !(count == 0 && i + 1 == seen))
                        problems << QStringLiteral("run %1 of %2 has %3 layer metrics").arg(i + 1).arg(seen).arg(count);
                }
            }
        } catch (const core::Error& error) {
            problems << QString::fromUtf8(error.what());
        }
        writer.join();

        QVERIFY2(writerError.isEmpty(), qPrintable(writerError));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join("; ")));
        QCOMPARE(seen, std::size_t(kRuns));
        QVERIFY2(readsDuringWrites > 0, "the readers never overlapped the writer");
        qDebug("%d reads, %d while the writer was writing", reads, readsDuringWrites);
    }

private:
    std::string path() const { return m_dir->filePath("catalog.sqlite").toStdString(); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

QTEST_GUILESS_MAIN(TestCatalog)
#include "test_catalog.moc"
