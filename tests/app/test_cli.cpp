// End-to-end tests of the quantscope CLI: JSON outputs, and one clear error
// line with a non-zero exit for every kind of bad input.

#include "tiny_model_files.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace {

struct CliRun {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

CliRun runQuantscope(const QStringList& args)
{
    QProcess process;
    process.start(QStringLiteral(QS_BINARY), args);
    process.waitForFinished(120000);
    return {process.exitCode(), process.readAllStandardOutput(), process.readAllStandardError()};
}

void writeFile(const std::string& path, const std::string& contents)
{
    std::ofstream(path, std::ios::binary) << contents;
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void replaceInFile(const std::string& path, const std::string& from, const std::string& to)
{
    std::string text = readFile(path);
    const auto at = text.find(from);
    QVERIFY2(at != std::string::npos, from.c_str());
    text.replace(at, from.size(), to);
    writeFile(path, text);
}

} // namespace

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
        const CliRun opt = runQuantscope(
            {"tokenize", "--model", QString::fromStdString(m_dir + "/opt"), "--text", "the", "--json"});
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
            // A trained model: far below the 2048 of a uniform guess over its vocabulary.
            QVERIFY2(result["perplexity"].toDouble() < 400.0, qPrintable(QString::number(result["perplexity"].toDouble())));
        }
        QVERIFY(results[0].toObject()["text"].toString().endsWith("brown_test.txt"));
        QVERIFY(results[1].toObject()["text"].toString().endsWith("kjv_test.txt"));
    }

    void badInputGivesOneClearLine_data()
    {
        QTest::addColumn<QString>("breakage");
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing dir") << "none" << "info" << "model directory not found";
        QTest::newRow("corrupt safetensors") << "garbage" << "info" << "corrupt safetensors header";
        QTest::newRow("truncated safetensors") << "truncate" << "info" << "out of range";
        QTest::newRow("config key missing") << "no-hidden" << "info" << "missing key 'hidden_size'";
        QTest::newRow("config inconsistent") << "wrong-ff" << "info" << "config.json implies";
        QTest::newRow("unsupported model_type") << "gptj" << "info" << "unsupported model_type 'gptj'";
        QTest::newRow("missing tokenizer") << "no-tokenizer" << "eval" << "missing tokenizer";
        QTest::newRow("text too short") << "short-text" << "eval" << "fewer than one window";
        QTest::newRow("nan weights") << "nan" << "eval" << "contains NaN or Inf";
        QTest::newRow("seq-len out of range") << "seq-len" << "eval" << "--seq-len";
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
