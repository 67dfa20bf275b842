// Crash injection (issue 21): a calibration is killed with SIGKILL at 20 random moments of its
// life (while blocks are calibrated, while HDF5 diagnostics are written, inside catalog
// transactions, between blocks). After each kill the workspace must be whole: the catalog passes
// SQLite's integrity check, every run finished before reads back exactly as before (`runs show`,
// `diag`, `export`), the killed run is marked interrupted, and `resume` finishes it with the
// uninterrupted run's numbers. The seed is printed; QS_CRASH_SEED=N repeats a sequence.

#include "cli_process.h"
#include "tiny_model_files.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>

#include <sqlite3.h>

#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

using testsupport::CliRun;
using testsupport::readFile;
using testsupport::runQuantscope;

namespace {

namespace fs = std::filesystem;

// SQLite's own verdict on the catalog file, opened read-only ("ok" when whole).
std::string integrityCheck(const std::string& catalogPath)
{
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(catalogPath.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return "cannot open " + catalogPath;
    }
    std::string verdict;
    sqlite3_exec(
        db, "PRAGMA integrity_check", [](void* out, int, char** values, char**) {
            *static_cast<std::string*>(out) += values[0] ? values[0] : "NULL";
            return 0;
        },
        &verdict, nullptr);
    sqlite3_close(db);
    return verdict;
}

// How many blocks the killed run had checkpointed (-1: no checkpoint yet).
int checkpointedBlocks(const std::string& runDirectory)
{
    const std::string text = readFile(runDirectory + "/resume/checkpoint.json");
    std::smatch match;
    if (std::regex_search(text, match, std::regex("\"blocks_done\": ([0-9]+)")))
        return std::stoi(match[1]);
    return -1;
}

} // namespace

class TestCrashInjection : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    QString m_workspace;

    QStringList calibrate() const
    {
        // The bundled model (six blocks) with diagnostics on, so that a run spends its time in
        // blocks, HDF5 writes and catalog transactions alike.
        return {"calibrate",          "--method", "gptq", "--samples",   "4",         "--seq-len", "64",
                "--eval-max-windows", "1",        "--json", "--quiet", "--workspace", m_workspace};
    }

    // The workspace read back by a user: run 1's record, diagnostics and export.
    struct Readback {
        QByteArray show, diag, exportedWeights;
    };
    Readback readBack(int tag)
    {
        Readback r;
        const CliRun show = runQuantscope({"runs", "show", "1", "--json", "--workspace", m_workspace});
        const CliRun diag = runQuantscope({"diag", "1", "--json", "--workspace", m_workspace});
        const QString out = QString::fromStdString(m_dir + "/export-" + std::to_string(tag));
        const CliRun exported = runQuantscope({"export", "1", "--out", out, "--workspace", m_workspace});
        if (show.exitCode != 0 || diag.exitCode != 0 || exported.exitCode != 0) {
            qWarning("readback failed: %s %s %s", show.err.constData(), diag.err.constData(),
                     exported.err.constData());
            return r;
        }
        r.show = show.out;
        r.diag = diag.out;
        r.exportedWeights = QByteArray::fromStdString(readFile(out.toStdString() + "/model.safetensors"));
        fs::remove_all(out.toStdString());
        return r;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("crash-injection");
        m_workspace = QString::fromStdString(m_dir + "/ws");
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    void twentyKillsLoseNothing()
    {
        const CliRun reference = runQuantscope(calibrate());
        QVERIFY2(reference.exitCode == 0, reference.err.constData());
        const QJsonObject referenceResult = QJsonDocument::fromJson(reference.out).object();
        const Readback before = readBack(0);
        QVERIFY(!before.show.isEmpty());

        const quint32 seed = qEnvironmentVariableIsSet("QS_CRASH_SEED")
                                 ? qEnvironmentVariableIntValue("QS_CRASH_SEED")
                                 : QRandomGenerator::global()->generate();
        qInfo("QS_CRASH_SEED=%u", seed);
        QRandomGenerator random(seed);
        // How long a run lives after its directory appears: the window the kills fall into.
        const double runMs = 1000.0 * referenceResult["calibration_seconds"].toDouble();

        std::int64_t runId = 1;
        for (int kill = 1; kill <= 20; ++kill) {
            ++runId;
            const std::string runDirectory = m_workspace.toStdString() + "/runs/" + std::to_string(runId);
            QProcess process;
            process.start(QStringLiteral(QS_BINARY), calibrate());
            QVERIFY(process.waitForStarted());
            while (!fs::exists(runDirectory) && process.state() == QProcess::Running)
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            const int delayMs = random.bounded(static_cast<int>(runMs * 1.1) + 1);
            std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
            const int blocks = checkpointedBlocks(runDirectory);
            ::kill(static_cast<pid_t>(process.processId()), SIGKILL);
            QVERIFY(process.waitForFinished(60000));
            qInfo("kill %2d: %4d ms into run %lld (%d blocks checkpointed)", kill, delayMs,
                  static_cast<long long>(runId), blocks);

            const std::string verdict = integrityCheck(m_workspace.toStdString() + "/catalog.sqlite");
            QVERIFY2(verdict == "ok", verdict.c_str());
            const Readback after = readBack(kill);
            QVERIFY2(after.show == before.show, "run 1's record changed");
            QVERIFY2(after.diag == before.diag, "run 1's diagnostics changed");
            QVERIFY2(after.exportedWeights == before.exportedWeights, "run 1's exported weights changed");

            const CliRun shown =
                runQuantscope({"runs", "show", QString::number(runId), "--json", "--workspace", m_workspace});
            QVERIFY2(shown.exitCode == 0, shown.err.constData());
            const QJsonObject killed = QJsonDocument::fromJson(shown.out).object();
            if (killed["status"].toString() == "finished") {
                // The kill came after the run's last write: it must be the complete run.
                QCOMPARE(killed["perplexity"].toObject(), referenceResult["perplexity"].toObject());
                continue;
            }
            QCOMPARE(killed["status"].toString(), QString("failed"));
            QVERIFY2(killed["error"].toString().startsWith("interrupted"), shown.out.constData());
            const CliRun resumed =
                runQuantscope({"resume", QString::number(runId), "--json", "--quiet", "--workspace", m_workspace});
            QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
            const QJsonObject result = QJsonDocument::fromJson(resumed.out).object();
            QCOMPARE(result["perplexity"].toObject(), referenceResult["perplexity"].toObject());
        }
        const CliRun listed = runQuantscope({"runs", "list", "--json", "--workspace", m_workspace});
        const QJsonArray runs = QJsonDocument::fromJson(listed.out).array();
        QCOMPARE(runs.size(), 21);
        for (const auto& run : runs)
            QCOMPARE(run.toObject()["status"].toString(), QString("finished"));
    }
};

QTEST_GUILESS_MAIN(TestCrashInjection)
#include "test_crash_injection.moc"
