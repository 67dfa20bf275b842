// End-to-end tests of the quantscope CLI: JSON outputs, and one clear error
// line with a non-zero exit for every kind of bad input.

#include "cli_process.h"
#include "tiny_model_files.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

using testsupport::CliRun;
using testsupport::readFile;
using testsupport::replaceInFile;
using testsupport::runQuantscope;
using testsupport::writeFile;

class TestCli : public QObject {
    Q_OBJECT
private:
    std::string m_dir;
    QString m_llama;
    QString m_text;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("cli");
        testsupport::writeTinyLlamaWithTokenizer(m_dir + "/llama");
        testsupport::writeTinyOptWithTokenizer(m_dir + "/opt");
        m_llama = QString::fromStdString(m_dir + "/llama");
        m_text = QString::fromStdString(m_dir + "/text.txt");
        std::string text;
        for (int i = 0; i < 20; ++i)
            text += "The jury said the election was fine, and the city agreed. ";
        writeFile(m_text.toStdString(), text);
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void infoJson()
    {
        const CliRun run = runQuantscope({"info", "--model", m_llama, "--json"});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject info = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(info["family"].toString(), QString("llama"));
        QCOMPARE(info["num_layers"].toInt(), 2);
        QCOMPARE(info["num_kv_heads"].toInt(), 2);
        QCOMPARE(info["tokenizer"].toString(), QString("gpt2-bpe"));
        QCOMPARE(info["layers"].toArray().size(), 2 * 7 + 1);
        QCOMPARE(info["layers"].toArray().first().toString(), QString("model.layers.0.self_attn.q_proj"));
        // embed + lm_head + norm + 2 blocks of (2 norms + q,o 48x48 + k,v 16x48 + 3 MLP 80x48)
        const qint64 perBlock = 2 * 48 + 2 * 48 * 48 + 2 * 16 * 48 + 3 * 80 * 48;
        QCOMPARE(info["parameters"].toInteger(), 2 * 264 * 48 + 48 + 2 * perBlock);
    }

    void tokenizeJson()
    {
        const CliRun run = runQuantscope({"tokenize", "--model", m_llama, "--text", "the the", "--json"});
        QCOMPARE(run.exitCode, 0);
        const QJsonArray ids = QJsonDocument::fromJson(run.out).object()["ids"].toArray();
        QCOMPARE(ids.size(), 4);
        QCOMPARE(ids[0].toInt(), 1); // LLaMA BOS <s>
        QCOMPARE(ids[3].toInt(), 262);
        const CliRun opt =
            runQuantscope({"tokenize", "--model", QString::fromStdString(m_dir + "/opt"), "--text", "the", "--json"});
        QCOMPARE(QJsonDocument::fromJson(opt.out).object()["ids"].toArray()[0].toInt(), 2); // OPT BOS </s>
    }

    void evalJson()
    {
        const CliRun run =
            runQuantscope({"eval", "--model", m_llama, "--text", m_text, "--seq-len", "32", "--json", "--quiet"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject result = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(result["seq_len"].toInt(), 32);
        QCOMPARE(result["windows"].toInt(), result["tokens"].toInt() / 32);
        QVERIFY(result["perplexity"].toDouble() > 1.0);
        QVERIFY(run.err.isEmpty());
    }

    // `eval --task`: the documented JSON keys, --limit, and errors naming the file and line.
    void evalTaskJson()
    {
        const CliRun run = runQuantscope({"eval", "--task", "brown_cloze", "--limit", "20", "--json", "--quiet"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject result = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(result["task"].toString(), QString("brown_cloze"));
        QCOMPARE(result["n"].toInt(), 20);
        for (const char* key : {"acc", "acc_norm", "acc_bytes", "acc_stderr", "acc_norm_stderr"})
            QVERIFY2(result[key].isDouble(), key);
        QVERIFY(result["acc"].toDouble() >= 0.0 && result["acc"].toDouble() <= 1.0);
        const std::string bad = m_dir + "/bad_task.jsonl";
        writeFile(bad, "{\"context\": \"a\", \"choices\": [\"x\"], \"gold\": 0}\n");
        const CliRun refused = runQuantscope({"eval", "--task", "mine", "--data", QString::fromStdString(bad)});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("bad_task.jsonl:1"), refused.err.constData());
        const CliRun list = runQuantscope({"eval", "--list-tasks"});
        QVERIFY(list.out.contains("hellaswag") && list.out.contains("social_iqa"));
    }

    void sentencePieceModelThroughTheExecutable()
    {
        // Exercises the isolated sentencepiece module inside the real executable (LibTorch loaded too).
        const std::string dir = m_dir + "/sp-llama";
        testsupport::writeTinyLlamaWithSentencePiece(dir);
        const CliRun run = runQuantscope({"tokenize", "--model", QString::fromStdString(dir), "--text",
                                          "The jury said the election was fine.", "--json"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonArray ids = QJsonDocument::fromJson(run.out).object()["ids"].toArray();
        QVERIFY(ids.size() > 3);
        QCOMPARE(ids[0].toInt(), 1);
        const CliRun info = runQuantscope({"info", "--model", QString::fromStdString(dir), "--json"});
        QCOMPARE(QJsonDocument::fromJson(info.out).object()["tokenizer"].toString(), QString("sentencepiece"));
    }

    void bundledModelIsTheDefault()
    {
        // No --model and no --text: the bundled brown-llama on both bundled test texts.
        const CliRun run = runQuantscope({"eval", "--max-windows", "2", "--json", "--quiet"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonArray results = QJsonDocument::fromJson(run.out).array();
        QCOMPARE(results.size(), 2);
        for (const auto& value : results) {
            const QJsonObject result = value.toObject();
            QCOMPARE(result["seq_len"].toInt(), 512);
            QCOMPARE(result["windows"].toInt(), 2);
            // A trained model: far below the 2048 of a uniform guess over its vocabulary (KJV's
            // first two windows are Matthew 1's genealogy, a list of names: about 400).
            QVERIFY2(result["perplexity"].toDouble() < 1000.0,
                     qPrintable(QString::number(result["perplexity"].toDouble())));
        }
        // In-domain, the bundled model is close to its full-text 47.7.
        QVERIFY2(results[0].toObject()["perplexity"].toDouble() < 120.0,
                 qPrintable(QString::number(results[0].toObject()["perplexity"].toDouble())));
        QVERIFY(results[0].toObject()["text"].toString().endsWith("brown_test.txt"));
        QVERIFY(results[1].toObject()["text"].toString().endsWith("kjv_test.txt"));
    }

    void launcherRunsModelCommandsWithoutTheEngine()
    {
        // The launcher alone, copied where no engine module is: info, tokenize and --version
        // still answer (they never load LibTorch); a computing command names the missing module.
        const std::string dir = m_dir + "/launcher-alone";
        std::filesystem::create_directories(dir);
        const std::string launcher = dir + "/quantscope";
        std::filesystem::copy_file(QS_BINARY, launcher, std::filesystem::copy_options::overwrite_existing);
        const auto run = [&](const QStringList& args) {
            QProcess process;
            process.start(QString::fromStdString(launcher), args);
            process.waitForFinished(120000);
            return CliRun{process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError()};
        };
        const CliRun info = run({"info", "--model", m_llama, "--json"});
        QVERIFY2(info.exitCode == 0, info.err.constData());
        QCOMPARE(QJsonDocument::fromJson(info.out).object()["num_layers"].toInt(), 2);
        QCOMPARE(run({"tokenize", "--model", m_llama, "--text", "the", "--json"}).exitCode, 0);
        QVERIFY(run({"--version"}).out.startsWith("quantscope "));

        const CliRun eval = run({"eval", "--model", m_llama, "--text", m_text});
        QCOMPARE(eval.exitCode, 1);
        QVERIFY2(eval.err.startsWith("quantscope: error: command-line engine libquantscope_engine_cli.so not found"),
                 eval.err.constData());
        QVERIFY(eval.err.contains(QByteArray::fromStdString(dir)));
        QCOMPARE(eval.err.count('\n'), 1);
    }

    void calibrateListCompareExportDelete()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws");
        const QStringList common{"--workspace", ws, "--json", "--quiet"};
        const QStringList data{"--calib-text", m_text, "--eval-text",    m_text, "--samples", "4",
                               "--seq-len",    "32",   "--eval-seq-len", "32"};
        const CliRun rtn = runQuantscope(
            QStringList{"calibrate", "--model", m_llama, "--method", "rtn", "--wbits", "3", "--group", "16"} + data +
            common);
        QVERIFY2(rtn.exitCode == 0, rtn.err.constData());
        const QJsonObject first = QJsonDocument::fromJson(rtn.out).object();
        QCOMPARE(first["status"].toString(), QString("finished"));
        QCOMPARE(first["calibration_offsets"].toArray().size(), 4);
        QCOMPARE(first["layers"].toArray().size(), 14);
        QVERIFY(first["layers"].toArray()[0].toObject().contains("rel_error"));
        QVERIFY(first["perplexity"].toObject()["text"].toDouble() > 1.0);
        QVERIFY(first["fp_perplexity"].toObject()["text"].toDouble() > 1.0);

        // The same through a config file, with a flag overriding it.
        const std::string config = m_dir + "/gptq.json";
        writeFile(config, R"({"method": "gptq", "name": "from file", "weights": {"bits": 2, "group_size": 16},
                             "gptq": {"act_order": true}})");
        const CliRun gptq = runQuantscope(
            QStringList{"calibrate", "--config", QString::fromStdString(config), "--model", m_llama, "--wbits", "3"} +
            data + common);
        QVERIFY2(gptq.exitCode == 0, gptq.err.constData());
        const QJsonObject second = QJsonDocument::fromJson(gptq.out).object();
        QCOMPARE(second["name"].toString(), QString("from file"));
        QCOMPARE(second["config"].toObject()["weights"].toObject()["bits"].toInt(), 3);
        const QString id1 = QString::number(first["run_id"].toInt());
        const QString id2 = QString::number(second["run_id"].toInt());

        const CliRun list = runQuantscope({"runs", "list", "--workspace", ws, "--json"});
        QCOMPARE(QJsonDocument::fromJson(list.out).array().size(), 2);
        const CliRun show = runQuantscope({"runs", "show", id2, "--workspace", ws, "--json"});
        QCOMPARE(QJsonDocument::fromJson(show.out).object()["layers"].toArray().size(), 14);
        QCOMPARE(QJsonDocument::fromJson(show.out).object()["blocks"].toArray().size(), 2);
        const CliRun compare = runQuantscope({"compare", id1, id2, "--workspace", ws, "--json"});
        QVERIFY2(compare.exitCode == 0, compare.err.constData());
        const QJsonObject table = QJsonDocument::fromJson(compare.out).object();
        const QJsonObject row = table["datasets"].toArray()[0].toObject();
        const double p1 = row["perplexity"].toArray()[0].toDouble(), p2 = row["perplexity"].toArray()[1].toDouble();
        QCOMPARE(row["difference"].toArray()[1].toDouble(), p2 - p1);
        QCOMPARE(table["layers"].toArray().size(), 14);

        // Export → eval of the exported directory reproduces the run's perplexity.
        const QString out = QString::fromStdString(m_dir + "/exported");
        const CliRun exported = runQuantscope({"export", id2, "--out", out, "--workspace", ws, "--quiet"});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        const CliRun eval =
            runQuantscope({"eval", "--model", out, "--text", m_text, "--seq-len", "32", "--json", "--quiet"});
        QVERIFY2(eval.exitCode == 0, eval.err.constData());
        QCOMPARE(QJsonDocument::fromJson(eval.out).object()["perplexity"].toDouble(),
                 second["perplexity"].toObject()["text"].toDouble());

        const CliRun removed = runQuantscope({"runs", "delete", id1, "--workspace", ws});
        QVERIFY2(removed.exitCode == 0, removed.err.constData());
        QCOMPARE(
            QJsonDocument::fromJson(runQuantscope({"runs", "list", "--workspace", ws, "--json"}).out).array().size(),
            1);
        const CliRun missing = runQuantscope({"runs", "show", id1, "--workspace", ws});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("not found"), missing.err.constData());
    }

    void diagnosticsOfARun()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-diag");
        const CliRun run = runQuantscope(
            {"calibrate",    "--model",        m_llama,       "--method",    "gptq",      "--group", "16",
             "--calib-text", m_text,           "--eval-text", m_text,        "--samples", "4",       "--seq-len",
             "32",           "--eval-seq-len", "32",          "--workspace", ws,          "--json",  "--quiet"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QString id = QString::number(QJsonDocument::fromJson(run.out).object()["run_id"].toInt());

        const CliRun linear =
            runQuantscope({"diag", id, "--layer", "model.layers.1.mlp.down_proj", "--workspace", ws, "--json"});
        QVERIFY2(linear.exitCode == 0, linear.err.constData());
        const QJsonObject d = QJsonDocument::fromJson(linear.out).object();
        QCOMPARE(d["input_histogram"].toObject()["fp"].toArray().size(), 256);
        QCOMPARE(d["input_channels"].toObject()["fp_absmax"].toArray().size(), 80);
        QVERIFY(d["metrics"].toObject().contains("rel_error"));
        QVERIFY(d["saliency"].toObject()["top_obs"].toArray().size() > 0);

        const CliRun block = runQuantscope({"diag", id, "--layer", "model.layers.0", "--workspace", ws});
        QVERIFY2(block.exitCode == 0 && block.out.contains("projected SW"), block.err.constData());
        const CliRun overview = runQuantscope({"diag", id, "--workspace", ws});
        QVERIFY2(overview.exitCode == 0 && overview.out.contains("model.layers.1.mlp.up_proj"),
                 overview.err.constData());

        const std::string csv = m_dir + "/diag-csv";
        const CliRun exported = runQuantscope({"diag", id, "--csv", QString::fromStdString(csv), "--workspace", ws});
        QVERIFY2(exported.exitCode == 0, exported.err.constData());
        QVERIFY(readFile(csv + "/metrics.csv").find("model.layers.0,0,sw1,") != std::string::npos);
        QVERIFY(std::filesystem::exists(csv + "/model.layers.1.self_attn.o_proj.input_hist.csv"));
        QVERIFY(std::filesystem::exists(csv + "/model.layers.1.sw.csv"));

        const QString dump = QString::fromStdString(m_dir + "/dump.h5");
        const CliRun dumped = runQuantscope({"dump", id, "--layer", "model.layers.1.mlp.down_proj", "--out", dump,
                                             "--workspace", ws, "--json", "--quiet"});
        QVERIFY2(dumped.exitCode == 0, dumped.err.constData());
        QCOMPARE(QJsonDocument::fromJson(dumped.out).object()["tokens"].toInt(), 4 * 32);
        QCOMPARE(QJsonDocument::fromJson(dumped.out).object()["channels"].toInt(), 80);

        const CliRun unknown = runQuantscope({"diag", id, "--layer", "model.layers.9.mlp", "--workspace", ws});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("model.layers.9.mlp"), unknown.err.constData());

        // A truncated artifact file fails `diag` with one line naming it; the run stays listed.
        const std::string artifacts = ws.toStdString() + "/runs/" + id.toStdString() + "/artifacts.h5";
        std::filesystem::resize_file(artifacts, std::filesystem::file_size(artifacts) / 3);
        const CliRun damaged =
            runQuantscope({"diag", id, "--layer", "model.layers.1.mlp.down_proj", "--workspace", ws});
        QCOMPARE(damaged.exitCode, 1);
        QVERIFY2(damaged.err.contains("artifacts.h5") && !damaged.err.trimmed().contains('\n'),
                 damaged.err.constData());
        const CliRun list = runQuantscope({"runs", "list", "--workspace", ws, "--json"});
        QCOMPARE(QJsonDocument::fromJson(list.out).array().size(), 1);
    }

    void learningMethodWithLossShorthand()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-learn");
        const QStringList data{"--model",   m_llama, "--calib-text", m_text, "--eval-text",    m_text,
                               "--samples", "4",     "--seq-len",    "32",   "--eval-seq-len", "32",
                               "--group",   "16",    "--workspace",  ws};
        const CliRun run = runQuantscope(QStringList{"calibrate", "--method", "omniquant", "--loss", "mse:0.9,sw:0.1",
                                                     "--epochs", "2", "--json", "--quiet"} +
                                         data);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject result = QJsonDocument::fromJson(run.out).object();
        QCOMPARE(result["name"].toString(), QString("omniquant w4g16 mse+sw"));
        const QJsonArray loss = result["config"].toObject()["loss"].toArray();
        QCOMPARE(loss.size(), 2);
        QCOMPARE(loss[1].toObject()["weight"].toDouble(), 0.1);
        QCOMPARE(loss[1].toObject()["projections"].toInt(), 128); // the term's default
        const QString id = QString::number(result["run_id"].toInt());
        const CliRun show = runQuantscope({"runs", "show", id, "--workspace", ws});
        QVERIFY2(show.exitCode == 0 && show.out.contains("loss_last_epoch"), show.out.constData());
        const CliRun block = runQuantscope({"diag", id, "--layer", "model.layers.1", "--workspace", ws, "--json"});
        QVERIFY2(block.exitCode == 0, block.err.constData());
        const QJsonObject curve = QJsonDocument::fromJson(block.out).object()["loss"].toObject();
        QCOMPARE(curve["steps"].toInt(), 2 * 4);
        QCOMPARE(curve["epoch_means"].toObject()["total"].toArray().size(), 2);

        // TesseraQ through the same flags: --epochs sets its LWC stage.
        const CliRun tesseraq = runQuantscope(QStringList{"calibrate", "--method", "tesseraq", "--epochs", "1",
                                                          "--iterations", "2", "--json", "--quiet"} +
                                              data);
        QVERIFY2(tesseraq.exitCode == 0, tesseraq.err.constData());
        const QJsonObject config = QJsonDocument::fromJson(tesseraq.out).object()["config"].toObject();
        QCOMPARE(config["tesseraq"].toObject()["lwc_epochs"].toInt(), 1);
        QCOMPARE(config["loss"].toArray()[0].toObject()["type"].toString(), QString("l2"));

        const CliRun bad =
            runQuantscope(QStringList{"calibrate", "--method", "omniquant", "--loss", "mse:lots"} + data);
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains("--loss: 'mse:lots' is not TYPE[:WEIGHT]"), bad.err.constData());
        const CliRun unknownTerm =
            runQuantscope(QStringList{"calibrate", "--method", "omniquant", "--loss", "huber"} + data);
        QCOMPARE(unknownTerm.exitCode, 1);
        QVERIFY2(unknownTerm.err.contains("unknown loss type 'huber'"), unknownTerm.err.constData());
        const CliRun wrongMethod = runQuantscope(QStringList{"calibrate", "--method", "gptq", "--loss", "mse"} + data);
        QCOMPARE(wrongMethod.exitCode, 1);
        QVERIFY2(wrongMethod.err.contains("'loss' applies to block-reconstruction methods"),
                 wrongMethod.err.constData());
    }

    void ptq161AndLrQuantWithAdaptation()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-zhao");
        const QStringList data{"--model",   m_llama, "--calib-text",   m_text, "--eval-text", m_text, "--samples", "4",
                               "--seq-len", "32",    "--eval-seq-len", "32",   "--workspace", ws};
        const CliRun ptq161 =
            runQuantscope(QStringList{"calibrate", "--preset", "ptq161", "--epochs", "1", "--json", "--quiet"} + data);
        QVERIFY2(ptq161.exitCode == 0, ptq161.err.constData());
        const QJsonObject mask = QJsonDocument::fromJson(ptq161.out).object();
        QCOMPARE(mask["config"].toObject()["ptq161"].toObject()["epochs"].toInt(), 1);
        QVERIFY(mask["effective_bits"].toDouble() > 1.6 && mask["effective_bits"].toDouble() < 4.0);

        const CliRun lrquant = runQuantscope(
            QStringList{"calibrate", "--preset", "lrquant-w4a4", "--epochs", "1", "--json", "--quiet"} + data);
        QVERIFY2(lrquant.exitCode == 0, lrquant.err.constData());
        const QString parent = QString::number(QJsonDocument::fromJson(lrquant.out).object()["run_id"].toInt());
        const CliRun adapt =
            runQuantscope({"adapt", parent, "--text", m_text, "--epochs", "1", "--workspace", ws, "--json", "--quiet"});
        QVERIFY2(adapt.exitCode == 0, adapt.err.constData());
        const QJsonObject tta = QJsonDocument::fromJson(adapt.out).object();
        QCOMPARE(QString::number(tta["parent_run_id"].toInt()), parent);
        QCOMPARE(tta["kind"].toString(), QString("tta"));
        QVERIFY(tta["perplexity"].toDouble() > 1.0 && tta["parent_perplexity"].toDouble() > 1.0);
        const CliRun list = runQuantscope({"runs", "list", "--workspace", ws});
        QVERIFY2(list.out.contains("[TTA of run " + parent.toUtf8() + "]"), list.out.constData());
        // A PTQ1.61 run has no smoothing to adapt.
        const CliRun refused = runQuantscope({"adapt", "1", "--text", m_text, "--workspace", ws});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("it adapts lrquant runs"), refused.err.constData());
    }

    void setOverridesAnyKey()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-set");
        const QStringList data{"--model",   m_llama, "--calib-text", m_text, "--eval-text",    m_text,
                               "--samples", "4",     "--seq-len",    "32",   "--eval-seq-len", "32",
                               "--group",   "16",    "--workspace",  ws,     "--quiet"};
        const CliRun run =
            runQuantscope(QStringList{"calibrate", "--method", "tesseraq", "--set", "tesseraq.lwc_epochs=0", "--set",
                                      "tesseraq.thresholds=[0.5,0.1]", "--set", "tesseraq.iterations=2", "--set",
                                      "weights.bits=3", "--json"} +
                          data);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject config = QJsonDocument::fromJson(run.out).object()["config"].toObject();
        const QJsonObject tesseraq = config["tesseraq"].toObject();
        QCOMPARE(tesseraq["lwc_epochs"].toInt(), 0);
        QCOMPARE(tesseraq["thresholds"].toArray().size(), 2);
        QCOMPARE(config["weights"].toObject()["bits"].toInt(), 3);

        const CliRun range =
            runQuantscope(QStringList{"calibrate", "--method", "gptq", "--set", "gptq.percdamp=2"} + data);
        QCOMPARE(range.exitCode, 1);
        QVERIFY2(range.err.contains("gptq.percdamp must be in (0, 1], got 2"), range.err.constData());
        const CliRun typo =
            runQuantscope(QStringList{"calibrate", "--method", "gptq", "--set", "gptq.percdam=0.1"} + data);
        QCOMPARE(typo.exitCode, 1);
        QVERIFY2(typo.err.contains("unknown key 'gptq.percdam'"), typo.err.constData());
        const CliRun other =
            runQuantscope(QStringList{"calibrate", "--method", "rtn", "--set", "omniquant.epochs=3"} + data);
        QCOMPARE(other.exitCode, 1);
        QVERIFY2(other.err.contains("section 'omniquant' applies to method 'omniquant' only"), other.err.constData());
        const CliRun malformed = runQuantscope(QStringList{"calibrate", "--method", "rtn", "--set", "bits"} + data);
        QCOMPARE(malformed.exitCode, 1);
        QVERIFY2(malformed.err.contains("expected KEY=VALUE"), malformed.err.constData());
        const CliRun list = runQuantscope({"runs", "list", "--workspace", ws, "--json"});
        QCOMPARE(QJsonDocument::fromJson(list.out).array().size(), 1); // the refused ones created nothing
    }

    void presetsAndTheHessianFlag()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-oac");
        const QStringList data{"--model",   m_llama, "--calib-text",   m_text, "--eval-text", m_text, "--samples", "4",
                               "--seq-len", "32",    "--eval-seq-len", "32",   "--workspace", ws,     "--quiet"};
        const CliRun spqr = runQuantscope(QStringList{"calibrate", "--preset", "oac-2bit", "--json"} + data);
        QVERIFY2(spqr.exitCode == 0, spqr.err.constData());
        QJsonObject result = QJsonDocument::fromJson(spqr.out).object();
        QJsonObject config = result["config"].toObject();
        QCOMPARE(config["method"].toString(), QString("spqr"));
        QCOMPARE(config["spqr"].toObject()["hessian"].toString(), QString("oac"));
        QCOMPARE(config["weights"].toObject()["group_size"].toInt(), 16);
        QVERIFY2(result["name"].toString().contains("oac"), qPrintable(result["name"].toString()));
        // 2-bit codes + 3-bit statistics of groups of 16 + second-level grids + outliers.
        QVERIFY(result["effective_bits"].toDouble() > 2.3);

        const CliRun billm = runQuantscope(QStringList{"calibrate", "--preset", "oac-binary", "--json"} + data);
        QVERIFY2(billm.exitCode == 0, billm.err.constData());
        result = QJsonDocument::fromJson(billm.out).object();
        QCOMPARE(result["config"].toObject()["method"].toString(), QString("billm"));
        QCOMPARE(result["config"].toObject()["weights"].toObject()["bits"].toInt(), 1);
        QVERIFY(result["effective_bits"].toDouble() > 2.5);

        const CliRun gptq =
            runQuantscope(QStringList{"calibrate", "--method", "gptq", "--wbits", "2", "--group", "16", "--hessian",
                                      "oac", "--set", "gptq.oac_schedule=one_shot", "--json"} +
                          data);
        QVERIFY2(gptq.exitCode == 0, gptq.err.constData());
        QVERIFY(QJsonDocument::fromJson(gptq.out).object()["name"].toString().contains("oac one-shot"));

        const CliRun unknown = runQuantscope(QStringList{"calibrate", "--preset", "oac-3bit"} + data);
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("unknown preset 'oac-3bit' (known: oac-2bit, oac-binary"),
                 unknown.err.constData());
        const CliRun twoBitBillm =
            runQuantscope(QStringList{"calibrate", "--method", "billm", "--wbits", "2", "--group", "-1"} + data);
        QCOMPARE(twoBitBillm.exitCode, 1);
        QVERIFY2(twoBitBillm.err.contains("weights.bits must be 1"), twoBitBillm.err.constData());
        const CliRun badSource =
            runQuantscope(QStringList{"calibrate", "--method", "spqr", "--hessian", "fisher"} + data);
        QCOMPARE(badSource.exitCode, 1);
        QVERIFY2(badSource.err.contains("spqr.hessian must be one of xtx | oac | blend"), badSource.err.constData());
    }

    void weightActivationKvShorthands()
    {
        const QString ws = QString::fromStdString(m_dir + "/ws-wakv");
        const QStringList data{"--model",   m_llama, "--calib-text", m_text, "--eval-text",    m_text,
                               "--samples", "4",     "--seq-len",    "32",   "--eval-seq-len", "32",
                               "--group",   "16",    "--workspace",  ws,     "--quiet"};
        const CliRun run = runQuantscope(QStringList{"calibrate", "--method", "gptq", "--wbits", "4", "--abits", "4",
                                                     "--kvbits", "4", "--set", "activations.clip_ratio=0.9", "--json"} +
                                         data);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject result = QJsonDocument::fromJson(run.out).object();
        const QJsonObject config = result["config"].toObject();
        QCOMPARE(config["activations"].toObject()["bits"].toInt(), 4);
        QCOMPARE(config["activations"].toObject()["clip_ratio"].toDouble(), 0.9);
        QCOMPARE(config["kv"].toObject()["bits"].toInt(), 4);
        QCOMPARE(result["name"].toString(), QString("gptq w4g16 W4A4KV4"));
        const CliRun bad = runQuantscope(QStringList{"calibrate", "--method", "rtn", "--abits", "1"} + data);
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains("activations.bits must be in 2..8, or 16 for unquantized, got 1"),
                 bad.err.constData());
    }

    void methodsListsEveryMethodAndTheReadmeAgrees()
    {
        const CliRun run = runQuantscope({"methods", "--json"});
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonArray methods = QJsonDocument::fromJson(run.out).array();
        QStringList names;
        for (const auto& method : methods)
            names << method.toObject()["name"].toString();
        QCOMPARE(names, (QStringList{"rtn", "gptq", "omniquant", "tesseraq", "spqr", "billm", "ostquant", "ptq161",
                                     "lrquant"}));
        const QJsonObject gptq = methods[1].toObject();
        QCOMPARE(gptq["options"].toArray()[1].toObject()["key"].toString(), QString("percdamp"));
        QCOMPARE(gptq["options"].toArray()[1].toObject()["default"].toDouble(), 0.01);
        QVERIFY(methods[2].toObject()["capabilities"].toObject()["takes_loss"].toBool());

        // The README's method table is the one the descriptors give.
        const CliRun table = runQuantscope({"methods", "--markdown"});
        QVERIFY2(table.exitCode == 0, table.err.constData());
        const std::string readme = readFile(QS_SOURCE_DIR "/README.md");
        QVERIFY2(readme.find(table.out.toStdString()) != std::string::npos,
                 "README.md's methods table differs from `quantscope methods --markdown`");
    }

    void badRunConfigChangesNothing_data()
    {
        QTest::addColumn<QString>("config");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown key") << R"({"method": "rtn", "weights": {"bitz": 3}})"
                                     << "unknown key 'weights.bitz'";
        QTest::newRow("bad value") << R"({"method": "rtn", "calibration": {"samples": -3}})"
                                   << "calibration.samples";
        QTest::newRow("not json") << "{method"
                                  << "not valid JSON";
        QTest::newRow("no method") << R"({"weights": {"bits": 3}})"
                                   << "'method' is required";
    }

    void badRunConfigChangesNothing()
    {
        QFETCH(QString, config);
        QFETCH(QString, expected);
        const QString ws = QString::fromStdString(m_dir + "/ws-bad");
        const std::string path = m_dir + "/bad.json";
        writeFile(path, config.toStdString());
        const CliRun run = runQuantscope(
            {"calibrate", "--config", QString::fromStdString(path), "--model", m_llama, "--workspace", ws, "--quiet"});
        QCOMPARE(run.exitCode, 1);
        const QString err = QString::fromUtf8(run.err).trimmed();
        QVERIFY2(err.contains(expected) && err.contains("bad.json"), qPrintable(err));
        QVERIFY2(!err.contains('\n'), qPrintable(err));
        const CliRun list = runQuantscope({"runs", "list", "--workspace", ws, "--json"});
        QCOMPARE(QJsonDocument::fromJson(list.out).array().size(), 0);
    }

    void interruptMarksTheRunCancelled()
    {
        // Ctrl-C as a terminal sends it: SIGINT to the running process, once the run exists
        // ("run N in DIR" on stderr). Enough calibration windows that it is still busy then.
        const QString ws = QString::fromStdString(m_dir + "/ws-interrupt");
        const QString log = QString::fromStdString(m_dir + "/interrupt.log");
        const QString command =
            QString("'%1' calibrate --model '%2' --method gptq --group 16 --calib-text '%3' --samples 4000 "
                    "--seq-len 64 --eval-text '%3' --workspace '%4' 2>'%5' & pid=$!; "
                    "for i in $(seq 600); do grep -q 'run 1 in' '%5' && break; sleep 0.1; done; "
                    "kill -INT $pid; wait $pid")
                .arg(QStringLiteral(QS_BINARY), m_llama, m_text, ws, log);
        QProcess shell;
        shell.start("bash", {"-c", command});
        QVERIFY(shell.waitForFinished(120000));
        const QByteArray err = QByteArray::fromStdString(readFile(log.toStdString()));
        QVERIFY2(shell.exitCode() == 130, err.constData());
        QVERIFY2(err.trimmed().endsWith("quantscope: cancelled"), err.constData());
        const CliRun list = runQuantscope({"runs", "list", "--workspace", ws, "--json"});
        const QJsonArray runs = QJsonDocument::fromJson(list.out).array();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs[0].toObject()["status"].toString(), QString("cancelled"));
    }

    // Issue 20: SIGKILL after a random block (the kernel's OOM killer, a lost node), then
    // `resume`: the numbers are the uninterrupted run's, bit for bit (JSON round-trips doubles).
    void resumeAfterSigkillGivesTheUninterruptedResult()
    {
        const QStringList config = {"calibrate",
                                    "--method",
                                    "gptq",
                                    "--samples",
                                    "24",
                                    "--seq-len",
                                    "128",
                                    "--group",
                                    "64",
                                    "--eval-max-windows",
                                    "2",
                                    "--set",
                                    "diagnostics.enabled=false",
                                    "--json",
                                    "--quiet"};
        const QString reference = QString::fromStdString(m_dir + "/ws-resume-reference");
        const CliRun uninterrupted = runQuantscope(config + QStringList{"--workspace", reference});
        QVERIFY2(uninterrupted.exitCode == 0, uninterrupted.err.constData());

        const int block = 1 + QRandomGenerator::global()->bounded(5); // of the bundled model's 6
        qInfo("killed after block %d", block);
        const QString ws = QString::fromStdString(m_dir + "/ws-resume-killed");
        QString args;
        for (const QString& arg : config)
            args += " '" + arg + "'";
        const QString command = QString("'%1' %2 --workspace '%3' >/dev/null 2>&1 & pid=$!; "
                                        "for i in $(seq 3000); do n=$(grep -os '\"blocks_done\": [0-9]*' "
                                        "'%3/runs/1/resume/checkpoint.json' | grep -o '[0-9]*$'); "
                                        "[ \"${n:-0}\" -ge %4 ] && break; sleep 0.01; done; "
                                        "kill -KILL $pid; wait $pid")
                                    .arg(QStringLiteral(QS_BINARY), args, ws)
                                    .arg(block);
        QProcess shell;
        shell.start("bash", {"-c", command});
        QVERIFY(shell.waitForFinished(120000));
        QCOMPARE(shell.exitCode(), 128 + SIGKILL); // killed, not finished before the checkpoint
        const CliRun resumed = runQuantscope({"resume", "1", "--workspace", ws, "--json"});
        QVERIFY2(resumed.exitCode == 0, resumed.err.constData());
        QVERIFY2(resumed.err.contains("resuming after block"), resumed.err.constData());
        const QJsonObject a = QJsonDocument::fromJson(uninterrupted.out).object();
        const QJsonObject b = QJsonDocument::fromJson(resumed.out).object();
        QCOMPARE(b["perplexity"].toObject(), a["perplexity"].toObject());
        QCOMPARE(b["effective_bits"].toDouble(), a["effective_bits"].toDouble());
        const QJsonArray layersA = a["layers"].toArray(), layersB = b["layers"].toArray();
        QCOMPARE(layersB.size(), layersA.size());
        for (qsizetype i = 0; i < layersA.size(); ++i)
            for (const char* key : {"name", "rel_error", "sqnr_db", "effective_bits"})
                QCOMPARE(layersB[i].toObject()[key], layersA[i].toObject()[key]);
    }

    // Issue 20: a local sweep killed with SIGKILL (the whole process group) and run again
    // finishes only what is missing: every run once, none twice.
    void sweepKilledAndRunAgainFinishesOnlyTheMissingRuns()
    {
        const std::string manifest = m_dir + "/sweep.json";
        writeFile(manifest, R"({"name": "seeds", "base": {"method": "gptq", "weights": {"bits": 3, "group_size": 64},
            "calibration": {"samples": 16, "seq_len": 128}, "eval": {"max_windows": 2},
            "diagnostics": {"enabled": false}}, "axes": {"calibration.seed": [0, 1, 2, 3]}})");
        const CliRun plan = runQuantscope({"sweep", "plan", QString::fromStdString(manifest), "--json"});
        QVERIFY2(plan.exitCode == 0, plan.err.constData());
        QCOMPARE(QJsonDocument::fromJson(plan.out).array().size(), 4);

        const QString ws = QString::fromStdString(m_dir + "/ws-sweep");
        const QString command =
            QString("setsid '%1' sweep run '%2' --workspace '%3' --jobs 2 --quiet & pid=$!; "
                    "for i in $(seq 6000); do [ \"$(cat '%3'/sweeps/seeds/logs/*.log 2>/dev/null | grep -c "
                    "'finished (')\" -ge 1 ] && break; sleep 0.01; done; kill -KILL -- -$pid; wait $pid")
                .arg(QStringLiteral(QS_BINARY), QString::fromStdString(manifest), ws);
        QProcess shell;
        shell.start("bash", {"-c", command});
        QVERIFY(shell.waitForFinished(120000));
        const CliRun again =
            runQuantscope({"sweep", "run", QString::fromStdString(manifest), "--workspace", ws, "--json"});
        QVERIFY2(again.exitCode == 0, again.err.constData());
        const QJsonObject outcome = QJsonDocument::fromJson(again.out).object();
        const int skipped = outcome["skipped"].toInt();
        QVERIFY2(skipped >= 1 && skipped < 4, again.out.constData());
        QCOMPARE(outcome["finished"].toInt(), 4 - skipped);
        const QJsonArray runs =
            QJsonDocument::fromJson(runQuantscope({"runs", "list", "--workspace", ws, "--json"}).out).array();
        int finished = 0;
        QSet<QString> names;
        for (const auto& run : runs)
            if (run.toObject()["status"].toString() == "finished") {
                ++finished;
                names.insert(run.toObject()["name"].toString());
            }
        QCOMPARE(finished, 4);
        QCOMPARE(names.size(), 4);
        // Run a third time: nothing left to do.
        const CliRun third =
            runQuantscope({"sweep", "run", QString::fromStdString(manifest), "--workspace", ws, "--json"});
        QCOMPARE(QJsonDocument::fromJson(third.out).object()["skipped"].toInt(), 4);
        // The seeds as one row of the paper's table.
        const CliRun grouped = runQuantscope({"compare", "--group-seeds", "--workspace", ws, "--json"});
        const QJsonArray groups = QJsonDocument::fromJson(grouped.out).array();
        QCOMPARE(groups.size(), 1);
        QCOMPARE(groups[0].toObject()["runs"].toArray().size(), 4);
        QVERIFY(groups[0].toObject()["metrics"].toObject()["perplexity brown_test"].toObject()["n"].toInt() == 4);
    }

    void badInputGivesOneClearLine_data()
    {
        QTest::addColumn<QString>("breakage");
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing dir") << "none"
                                     << "info"
                                     << "model directory not found";
        QTest::newRow("corrupt safetensors") << "garbage"
                                             << "info"
                                             << "corrupt safetensors header";
        QTest::newRow("truncated safetensors") << "truncate"
                                               << "info"
                                               << "out of range";
        QTest::newRow("config key missing") << "no-hidden"
                                            << "info"
                                            << "missing key 'hidden_size'";
        QTest::newRow("config inconsistent") << "wrong-ff"
                                             << "info"
                                             << "config.json implies";
        QTest::newRow("unsupported model_type") << "gptj"
                                                << "info"
                                                << "unsupported model_type 'gptj'";
        QTest::newRow("missing tokenizer") << "no-tokenizer"
                                           << "eval"
                                           << "missing tokenizer";
        QTest::newRow("text too short") << "short-text"
                                        << "eval"
                                        << "fewer than one window";
        QTest::newRow("nan weights") << "nan"
                                     << "eval"
                                     << "contains NaN or Inf";
        QTest::newRow("seq-len out of range") << "seq-len"
                                              << "eval"
                                              << "--seq-len";
    }

    void badInputGivesOneClearLine()
    {
        QFETCH(QString, breakage);
        QFETCH(QString, command);
        QFETCH(QString, expected);
        const std::string dir = m_dir + "/broken-" + breakage.toStdString();
        std::filesystem::remove_all(dir);
        QString text = m_text;
        QString seqLen = "32";
        if (breakage != "none")
            testsupport::writeTinyLlamaWithTokenizer(dir);
        const std::string weights = dir + "/model.safetensors";
        if (breakage == "garbage")
            writeFile(weights, std::string("\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", 24));
        else if (breakage == "truncate")
            std::filesystem::resize_file(weights, std::filesystem::file_size(weights) - 100);
        else if (breakage == "no-hidden")
            replaceInFile(dir + "/config.json", "\"hidden_size\"", "\"hidden_sizes\"");
        else if (breakage == "wrong-ff")
            replaceInFile(dir + "/config.json", "\"intermediate_size\": 80", "\"intermediate_size\": 96");
        else if (breakage == "gptj")
            replaceInFile(dir + "/config.json", "\"llama\"", "\"gptj\"");
        else if (breakage == "no-tokenizer")
            std::filesystem::remove(dir + "/vocab.json");
        else if (breakage == "short-text") {
            text = QString::fromStdString(dir + "/short.txt");
            writeFile(text.toStdString(), "too short");
        } else if (breakage == "nan") {
            // The first float of the data section belongs to the first tensor in name order
            // (lm_head.weight); overwrite it with a NaN bit pattern.
            std::string bytes = readFile(weights);
            std::uint64_t headerLength = 0;
            std::memcpy(&headerLength, bytes.data(), 8);
            const std::uint32_t nan = 0x7fc00000u;
            std::memcpy(bytes.data() + 8 + headerLength, &nan, 4);
            writeFile(weights, bytes);
        } else if (breakage == "seq-len")
            seqLen = "1";

        QStringList args{command, "--model", QString::fromStdString(dir)};
        if (command == "eval")
            args << "--text" << text << "--seq-len" << seqLen << "--quiet";
        const CliRun run = runQuantscope(args);
        QVERIFY2(run.exitCode != 0, run.out.constData());
        const QString err = QString::fromUtf8(run.err).trimmed();
        QVERIFY2(err.contains(expected), qPrintable(err));
        QVERIFY2(!err.contains('\n'), qPrintable("more than one line: " + err));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
