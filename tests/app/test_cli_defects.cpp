// The bad-input defects of issue 21, one case each, run through the CLI as a user meets them.
// Each case failed before its fix: an accepted input that should be refused, a misleading
// message, a run created before its inputs were checked, or a file lost.

#include "cli_process.h"
#include "tiny_model_files.h"

#include "store/run_lock.h"
#include "store/workspace.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>

using testsupport::CliRun;
using testsupport::readFile;
using testsupport::replaceInFile;
using testsupport::runQuantscope;
using testsupport::writeFile;

namespace {

namespace fs = std::filesystem;

// Rewrites the JSON header of a safetensors file through `edit`; the data section is kept as is
// (its offsets are relative to the data start, so a header of another length is fine).
template <class Edit> void editSafetensorsHeader(const std::string& path, Edit edit)
{
    const std::string bytes = readFile(path);
    std::uint64_t headerLength = 0;
    std::memcpy(&headerLength, bytes.data(), 8);
    nlohmann::json header = nlohmann::json::parse(bytes.substr(8, headerLength));
    edit(header);
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const std::uint64_t newLength = text.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &newLength, 8);
    writeFile(path, out + text + bytes.substr(8 + headerLength));
}

// The name of some weight tensor of the tiny model.
std::string someWeight(const nlohmann::json& header)
{
    for (const auto& [name, entry] : header.items())
        if (name.ends_with("q_proj.weight"))
            return name;
    return {};
}

} // namespace

class TestCliDefects : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    QString m_llama;
    QString m_text;

    // A fresh copy of the tiny model to damage.
    std::string modelCopy(const std::string& tag)
    {
        const std::string dir = m_dir + "/" + tag;
        fs::copy(m_llama.toStdString(), dir, fs::copy_options::recursive);
        return dir;
    }

    QStringList calibrationFlags(const QString& workspace, const QString& seqLen = "32", QString calibText = {},
                                 QString evalText = {}) const
    {
        return {"--model",        m_llama,
                "--calib-text",   calibText.isEmpty() ? m_text : calibText,
                "--eval-text",    evalText.isEmpty() ? m_text : evalText,
                "--samples",      "4",
                "--seq-len",      seqLen,
                "--eval-seq-len", "32",
                "--group",        "16",
                "--workspace",    workspace,
                "--quiet"};
    }

    int runCount(const QString& workspace) const
    {
        if (!fs::exists(workspace.toStdString()))
            return 0;
        const CliRun list = runQuantscope({"runs", "list", "--workspace", workspace, "--json"});
        return static_cast<int>(QJsonDocument::fromJson(list.out).array().size());
    }

    // `args` must fail with exit 1 and `expected` in its one error line, and create no run.
    void expectRefusedBeforeRun(const QStringList& args, const QString& workspace, const QByteArray& expected)
    {
        const CliRun run = runQuantscope(args);
        QVERIFY2(run.exitCode == 1, run.err.constData());
        QVERIFY2(run.err.contains(expected), run.err.constData());
        QVERIFY2(!run.err.contains("internal error"), run.err.constData());
        QCOMPARE(runCount(workspace), 0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("cli-defects");
        testsupport::writeTinyLlamaWithTokenizer(m_dir + "/llama");
        m_llama = QString::fromStdString(m_dir + "/llama");
        m_text = QString::fromStdString(m_dir + "/text.txt");
        std::string text;
        for (int i = 0; i < 20; ++i)
            text += "The jury said the election was fine, and the city agreed. ";
        writeFile(m_text.toStdString(), text);
    }
    void cleanupTestCase() { fs::remove_all(m_dir); }

    // Usage errors: one documented exit code (2), and an unknown subcommand named as such.
    void usageErrorsExitTwoAndNameTheSubcommand()
    {
        const CliRun unknown = runQuantscope({"calibrat"});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains("unknown subcommand 'calibrat'"), unknown.err.constData());
        const CliRun nested = runQuantscope({"runs", "lst"});
        QCOMPARE(nested.exitCode, 2);
        QVERIFY2(nested.err.contains("unknown subcommand 'lst' of 'runs'") && nested.err.contains("list"),
                 nested.err.constData());
        const CliRun missingValue = runQuantscope({"calibrate", "--wbits"});
        QCOMPARE(missingValue.exitCode, 2);
        const CliRun unknownFlag = runQuantscope({"runs", "list", "--colour"});
        QCOMPARE(unknownFlag.exitCode, 2);
        QVERIFY2(unknownFlag.err.contains("--colour"), unknownFlag.err.constData());
        QCOMPARE(runQuantscope({"--help"}).exitCode, 0);
    }

    // A key given twice in a run config, and a number that overflows a double: errors naming the
    // file and the key, not an internal nlohmann exception.
    void configJsonErrorsNameFileAndKey()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-json");
        const std::string twice = m_dir + "/twice.json";
        writeFile(twice, R"({"method": "rtn", "weights": {"bits": 4, "bits": 2}})");
        expectRefusedBeforeRun(QStringList{"calibrate", "--config", QString::fromStdString(twice)} +
                                   calibrationFlags(ws),
                               ws, "twice.json: key 'weights.bits': given twice");
        const std::string overflow = m_dir + "/overflow.json";
        writeFile(overflow, R"({"method": "rtn", "calibration": {"seed": 1e400}})");
        expectRefusedBeforeRun(QStringList{"calibrate", "--config", QString::fromStdString(overflow)} +
                                   calibrationFlags(ws),
                               ws, "overflow.json: key 'calibration.seed': number overflow");
    }

    // A bad flag on top of a good config file is the flag's fault, not the file's.
    void flagOverConfigIsBlamedOnTheFlag()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-flag");
        const std::string config = m_dir + "/good.json";
        writeFile(config, R"({"method": "rtn", "weights": {"bits": 4}})");
        const CliRun run =
            runQuantscope(QStringList{"calibrate", "--config", QString::fromStdString(config), "--wbits", "9"} +
                          calibrationFlags(ws));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains("the command-line flags (over") && run.err.contains("weights.bits must be in 1..8"),
                 run.err.constData());
        QCOMPARE(runCount(ws), 0);
        // A bad file is still the file's fault.
        writeFile(config, R"({"method": "rtn", "weights": {"bits": 12}})");
        const CliRun bad =
            runQuantscope(QStringList{"calibrate", "--config", QString::fromStdString(config), "--wbits", "9"} +
                          calibrationFlags(ws));
        QVERIFY2(bad.err.contains("good.json: weights.bits must be in 1..8, got 12"), bad.err.constData());
    }

    // Everything a run needs is checked before the run is created.
    void inputsAreValidatedBeforeARunIsCreated()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-validate");
        expectRefusedBeforeRun(QStringList{"calibrate", "--method", "rtn"} + calibrationFlags(ws, "1"), ws,
                               "calibration.seq_len must be in 2..");
        const std::string shortText = m_dir + "/short.txt";
        writeFile(shortText, "The jury said.");
        expectRefusedBeforeRun(QStringList{"calibrate", "--method", "rtn"} +
                                   calibrationFlags(ws, "32", {}, QString::fromStdString(shortText)),
                               ws, "tokens, fewer than one window of eval.seq_len 32");
        expectRefusedBeforeRun(QStringList{"calibrate", "--method", "rtn"} +
                                   calibrationFlags(ws, "32", QString::fromStdString(shortText)),
                               ws, "tokens, fewer than one window of calibration.seq_len 32");
        expectRefusedBeforeRun(QStringList{"calibrate", "--method", "rtn", "--name", "two\nlines"} +
                                   calibrationFlags(ws),
                               ws, "name contains the control character 0x0a");
    }

    void damagedCheckpointsSayWhatIsWrong()
    {
        const std::string reversed = modelCopy("reversed");
        editSafetensorsHeader(reversed + "/model.safetensors", [](nlohmann::json& header) {
            auto& offsets = header[someWeight(header)]["data_offsets"];
            offsets = {offsets[1], offsets[0]};
        });
        CliRun info = runQuantscope({"info", "--model", QString::fromStdString(reversed)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains("are reversed") && !info.err.contains("truncated"), info.err.constData());

        const std::string integer = modelCopy("int32");
        editSafetensorsHeader(integer + "/model.safetensors",
                              [](nlohmann::json& header) { header[someWeight(header)]["dtype"] = "I32"; });
        info = runQuantscope({"info", "--model", QString::fromStdString(integer)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains("q_proj.weight has dtype I32"), info.err.constData());

        const std::string directory = modelCopy("directory");
        fs::remove(directory + "/model.safetensors");
        fs::create_directory(directory + "/model.safetensors");
        info = runQuantscope({"info", "--model", QString::fromStdString(directory)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains("model.safetensors: is a directory"), info.err.constData());

        const std::string fewer = modelCopy("fewer-layers");
        const std::string config = readFile(fewer + "/config.json");
        const auto layers = nlohmann::json::parse(config)["num_hidden_layers"].get<int>();
        nlohmann::json edited = nlohmann::json::parse(config);
        edited["num_hidden_layers"] = layers - 1;
        writeFile(fewer + "/config.json", edited.dump());
        info = runQuantscope({"info", "--model", QString::fromStdString(fewer)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains(QByteArray("the checkpoint holds ") + QByteArray::number(layers) + " blocks") &&
                     info.err.contains("num_hidden_layers = " + QByteArray::number(layers - 1)),
                 info.err.constData());
    }

    // A sharded checkpoint that holds one tensor in two shards, or an index listing it twice.
    void tensorInTwoShardsIsAnError()
    {
        const std::string sharded = modelCopy("sharded");
        fs::rename(sharded + "/model.safetensors", sharded + "/a.safetensors");
        fs::copy_file(sharded + "/a.safetensors", sharded + "/b.safetensors");
        const std::string bytes = readFile(sharded + "/a.safetensors");
        std::uint64_t headerLength = 0;
        std::memcpy(&headerLength, bytes.data(), 8);
        const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, headerLength));
        nlohmann::json map = nlohmann::json::object();
        bool second = false;
        for (const auto& [name, entry] : header.items())
            if (name != "__metadata__") {
                map[name] = second ? "b.safetensors" : "a.safetensors";
                second = !second;
            }
        writeFile(sharded + "/model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
        CliRun info = runQuantscope({"info", "--model", QString::fromStdString(sharded)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains("is stored in two shards, a.safetensors and b.safetensors"), info.err.constData());

        const std::string first = map.begin().key();
        writeFile(sharded + "/model.safetensors.index.json",
                  R"({"weight_map": {")" + first + R"(": "a.safetensors", ")" + first + R"(": "b.safetensors"}})");
        info = runQuantscope({"info", "--model", QString::fromStdString(sharded)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains(QByteArray::fromStdString("key 'weight_map." + first + "': given twice")),
                 info.err.constData());

        // Seen while writing fuzz_checkpoint_index: a shard named by a path was opened wherever it pointed.
        fs::copy_file(sharded + "/a.safetensors", m_dir + "/outside.safetensors", fs::copy_options::overwrite_existing);
        writeFile(sharded + "/model.safetensors.index.json",
                  R"({"weight_map": {")" + first + R"(": "../outside.safetensors"}})");
        info = runQuantscope({"info", "--model", QString::fromStdString(sharded)});
        QCOMPARE(info.exitCode, 1);
        QVERIFY2(info.err.contains("('../outside.safetensors') is not a file name in the model directory"),
                 info.err.constData());
    }

    // A running run (its lock held) cannot be deleted, and deleting a file in its directory by
    // hand no longer makes it look interrupted.
    void runningRunIsNeitherDeletedNorMarkedInterrupted()
    {
        const std::string ws = m_dir + "/ws-lock";
        core::Workspace workspace(ws);
        const std::int64_t id = workspace.catalog().createRun({"live", "rtn", "{}", m_llama.toStdString(), "fp"});
        const std::string runDirectory = workspace.runDirectory(id);
        {
            const core::RunLock lock(runDirectory); // as a live job holds it
            workspace.catalog().setRunStatus(id, core::RunStatus::Running);
            writeFile(runDirectory + "/job.lock", ""); // what older builds locked: deleting it is harmless now
            fs::remove(runDirectory + "/job.lock");
            QCOMPARE(core::Workspace(ws).catalog().run(id).status, core::RunStatus::Running);
            const CliRun removed =
                runQuantscope({"runs", "delete", QString::number(id), "--workspace", QString::fromStdString(ws)});
            QCOMPARE(removed.exitCode, 1);
            QVERIFY2(removed.err.contains("is running") && removed.err.contains("cancel it first"),
                     removed.err.constData());
            QVERIFY(fs::exists(runDirectory));
        }
        // The process is gone: now the run reads as interrupted and can be deleted.
        QCOMPARE(core::Workspace(ws).catalog().run(id).status, core::RunStatus::Failed);
        const CliRun removed =
            runQuantscope({"runs", "delete", QString::number(id), "--workspace", QString::fromStdString(ws)});
        QVERIFY2(removed.exitCode == 0, removed.err.constData());
    }

    // Disk full during a calibration (a file size limit makes every write past it fail with
    // EFBIG, as ENOSPC would): one error line, the run marked failed, the finished run before
    // it intact, and a normal exit (it segfaulted in HDF5's shutdown before the fix).
    void diskFullEndsWithAnErrorAndLosesNothing()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-full");
        const CliRun first =
            runQuantscope(QStringList{"calibrate", "--method", "gptq", "--json"} + calibrationFlags(ws));
        QVERIFY2(first.exitCode == 0, first.err.constData());
        const std::string wsPath = ws.toStdString();
        const auto artifactBytes = fs::file_size(wsPath + "/runs/1/artifacts.h5");
        const auto catalogBytes = fs::file_size(wsPath + "/catalog.sqlite");
        // Below what the run's artifacts need, above what the catalog will grow to.
        const auto limitKiB = std::max(artifactBytes / 2, 4 * catalogBytes) / 1024;
        QVERIFY2(limitKiB * 1024 < artifactBytes,
                 qPrintable(QString("artifacts %1 B, catalog %2 B").arg(artifactBytes).arg(catalogBytes)));
        QProcess shell;
        QStringList args{"calibrate", "--method", "gptq"};
        args += calibrationFlags(ws);
        QString command = QString("trap '' XFSZ; ulimit -f %1; exec \"$0\" \"$@\"").arg(limitKiB);
        shell.start("bash", QStringList{"-c", command, QStringLiteral(QS_BINARY)} + args);
        QVERIFY(shell.waitForFinished(120000));
        const QByteArray err = shell.readAllStandardError();
        QCOMPARE(shell.exitStatus(), QProcess::NormalExit);
        QVERIFY2(shell.exitCode() == 1, err.constData());
        QVERIFY2(err.contains("run 2 failed") && err.contains("File too large"), err.constData());
        QVERIFY2(err.count('\n') == 1, err.constData());

        const core::Workspace workspace(wsPath, core::OpenMode::ReadOnly);
        QCOMPARE(workspace.catalog().run(2).status, core::RunStatus::Failed);
        QCOMPARE(workspace.catalog().run(1).status, core::RunStatus::Finished);
        for (const QStringList& read : {QStringList{"runs", "show", "1"}, QStringList{"diag", "1"}}) {
            const CliRun shown = runQuantscope(read + QStringList{"--workspace", ws});
            QVERIFY2(shown.exitCode == 0, shown.err.constData());
        }
    }

    // A workspace that cannot be written (here: a file size limit of 0, as on a full disk; root
    // ignores read-only permissions) can still be read; the stale run it could not mark is named.
    void readOnlyWorkspaceCanStillBeRead()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-readonly");
        const CliRun first = runQuantscope(QStringList{"calibrate", "--method", "rtn", "--json"} + calibrationFlags(ws));
        QVERIFY2(first.exitCode == 0, first.err.constData());
        const std::string wsPath = ws.toStdString();
        {
            core::Workspace workspace(wsPath);
            workspace.catalog().setRunStatus(1, core::RunStatus::Running); // as a killed run leaves it
        }
        QProcess shell;
        const QString command = "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"";
        shell.start("bash", QStringList{"-c", command, QStringLiteral(QS_BINARY), "runs", "list", "--workspace", ws});
        QVERIFY(shell.waitForFinished(60000));
        const QByteArray err = shell.readAllStandardError();
        const QByteArray out = shell.readAllStandardOutput();
        QVERIFY2(shell.exitCode() == 0, err.constData());
        QVERIFY2(err.contains("warning") && err.contains("read-only") && err.contains("run 1 was interrupted"),
                 err.constData());
        QVERIFY2(out.contains("running"), out.constData());

        // With write access again, the next reader marks it.
        const CliRun listed = runQuantscope({"runs", "list", "--workspace", ws});
        QVERIFY2(listed.exitCode == 0 && listed.err.isEmpty(), listed.err.constData());
        QCOMPARE(core::Workspace(wsPath, core::OpenMode::ReadOnly).catalog().run(1).status, core::RunStatus::Failed);
    }

    // A name stored before names were checked keeps the tables one line per run: control
    // characters are shown escaped, and --json encodes them.
    void oldControlCharacterNamesAreEscaped()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-names");
        const CliRun first = runQuantscope(QStringList{"calibrate", "--method", "rtn", "--json"} + calibrationFlags(ws));
        QVERIFY2(first.exitCode == 0, first.err.constData());
        core::Workspace(ws.toStdString()).catalog().renameRun(1, "two\nlines\x1b[31m");

        const CliRun listed = runQuantscope({"runs", "list", "--workspace", ws});
        QVERIFY2(listed.exitCode == 0, listed.err.constData());
        QVERIFY2(listed.out.contains("two\\x0alines\\x1b[31m"), listed.out.constData());
        QVERIFY2(!listed.out.contains('\x1b'), listed.out.constData());
        QCOMPARE(listed.out.count('\n'), 3); // workspace line, header, one run
        const CliRun shown = runQuantscope({"runs", "show", "1", "--workspace", ws});
        QVERIFY2(shown.exitCode == 0 && shown.out.startsWith("run 1: two\\x0alines"), shown.out.constData());
        const CliRun json = runQuantscope({"runs", "list", "--json", "--workspace", ws});
        QVERIFY2(json.exitCode == 0, json.err.constData());
        QCOMPARE(QJsonDocument::fromJson(json.out).array().at(0).toObject()["name"].toString(),
                 QString("two\nlines\x1b[31m"));
    }

    // `dump --out` never overwrites a file; `diag --csv` leaves no partial set of files behind.
    void outputsNeverOverwriteOrHalfWrite()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-out");
        const CliRun run = runQuantscope(QStringList{"calibrate", "--method", "rtn", "--json"} + calibrationFlags(ws));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QString id = QString::number(QJsonDocument::fromJson(run.out).object()["run_id"].toInt());

        const std::string existing = m_dir + "/mine.h5";
        writeFile(existing, "the user's own file");
        const CliRun dump = runQuantscope({"dump", id, "--layer", "model.layers.0.self_attn.q_proj", "--out",
                                           QString::fromStdString(existing), "--workspace", ws});
        QCOMPARE(dump.exitCode, 1);
        QVERIFY2(dump.err.contains("already exists"), dump.err.constData());
        QCOMPARE(readFile(existing), std::string("the user's own file"));

        // A CSV directory whose files cannot all be written: one of the last is a directory already.
        const std::string csv = m_dir + "/csv";
        fs::create_directories(csv + "/model.layers.0.output_hist.csv/blocked");
        const CliRun diag = runQuantscope({"diag", id, "--csv", QString::fromStdString(csv), "--workspace", ws});
        QCOMPARE(diag.exitCode, 1);
        QVERIFY2(!diag.err.contains("internal error"), diag.err.constData());
        QVERIFY(!fs::exists(csv + ".partial"));
        QCOMPARE(std::distance(fs::directory_iterator(csv), fs::directory_iterator{}), 1); // only what was there
        fs::remove_all(csv);
        const CliRun written = runQuantscope({"diag", id, "--csv", QString::fromStdString(csv), "--workspace", ws});
        QVERIFY2(written.exitCode == 0, written.err.constData());
        QVERIFY(fs::exists(csv + "/metrics.csv"));
    }
};

QTEST_GUILESS_MAIN(TestCliDefects)
#include "test_cli_defects.moc"
