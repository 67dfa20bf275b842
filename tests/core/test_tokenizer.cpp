// Tokenizers: GPT-2 pre-tokenisation cases, known ids from a hand-built BPE
// vocabulary, byte-exact round trips, tokenizer.json parity, sentencepiece.

#include "io/byte_bpe_tokenizer.h"
#include "io/sentencepiece_tokenizer.h"
#include "io/tokenizer.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <filesystem>

Q_DECLARE_METATYPE(std::vector<std::string>)
Q_DECLARE_METATYPE(std::vector<std::int64_t>)

class TestTokenizer : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("tokenizer");
        testsupport::writeByteLevelTokenizer(m_dir + "/bpe");
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void preTokenize_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<std::vector<std::string>>("pieces");
        using V = std::vector<std::string>;
        QTest::newRow("words") << "Hello world" << V{"Hello", " world"};
        QTest::newRow("contraction and spaces") << "it's  fine\n" << V{"it", "'s", " ", " fine", "\n"};
        QTest::newRow("letters vs digits") << "a1b22" << V{"a", "1", "b", "22"};
        QTest::newRow("punctuation") << "x!!  ?" << V{"x", "!!", " ", " ?"};
        QTest::newRow("newline before word") << "a\nb" << V{"a", "\n", "b"};
        QTest::newRow("unicode letters") << "héllo wörld" << V{"héllo", " wörld"};
        QTest::newRow("cjk then digits") << "数字123" << V{"数字", "123"};
        QTest::newRow("they'll") << "they'll go" << V{"they", "'ll", " go"};
    }

    void preTokenize()
    {
        QFETCH(QString, text);
        QFETCH(std::vector<std::string>, pieces);
        QCOMPARE(core::ByteBpeTokenizer::preTokenize(text.toStdString()), pieces);
    }

    void knownIds_data()
    {
        // Ids: 0-3 specials, 4 + byte value for each byte, then Ġt=260 he=261 Ġthe=262 Ġa=263.
        QTest::addColumn<QString>("text");
        QTest::addColumn<std::vector<std::int64_t>>("ids");
        using V = std::vector<std::int64_t>;
        QTest::newRow("the the") << "the the" << V{4 + 't', 261, 262};
        QTest::newRow(" a cat") << " a cat" << V{263, 4 + ' ', 4 + 'c', 4 + 'a', 4 + 't'};
        QTest::newRow("bytes of é") << "é" << V{4 + 0xC3, 4 + 0xA9};
    }

    void knownIds()
    {
        QFETCH(QString, text);
        QFETCH(std::vector<std::int64_t>, ids);
        const auto tokenizer = core::loadTokenizer(m_dir + "/bpe");
        QCOMPARE(tokenizer->kind(), std::string("gpt2-bpe"));
        QCOMPARE(tokenizer->encode(text.toStdString()), ids);
    }

    void byteExactRoundTrip_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("ascii") << QByteArray("The jury said, \"no evidence\" -- at 10:30.\n\n");
        QTest::newRow("emoji") << QByteArray("ok \xF0\x9F\x98\x80 done");
        QTest::newRow("invalid utf8") << QByteArray("bad \xFF\xFE bytes \xC3");
        QTest::newRow("tabs and crlf") << QByteArray("a\tb\r\nc   ");
        QTest::newRow("empty") << QByteArray("");
    }

    void byteExactRoundTrip()
    {
        QFETCH(QByteArray, text);
        const auto tokenizer = core::loadTokenizer(m_dir + "/bpe");
        const std::string original = text.toStdString();
        QCOMPARE(tokenizer->decode(tokenizer->encode(original)), original);
    }

    void tokenizerJsonMatchesVocabAndMerges()
    {
        const std::string dir = m_dir + "/json";
        std::filesystem::create_directories(dir);
        const auto vocab = nlohmann::json::parse(core::readTextFile(m_dir + "/bpe/vocab.json"));
        // Newer tokenizer.json files store merges as [left, right] pairs.
        using J = nlohmann::json;
        const J merges = J::array({J::array({"Ġ", "t"}), J::array({"h", "e"}), J::array({"Ġt", "he"}), J::array({"Ġ", "a"})});
        J tokenizerJson;
        tokenizerJson["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}};
        core::writeFileAtomically(dir + "/tokenizer.json", tokenizerJson.dump());
        const auto fromFiles = core::loadTokenizer(m_dir + "/bpe");
        const auto fromJson = core::loadTokenizer(dir);
        const std::string text = testsupport::sampleEnglishText();
        QCOMPARE(fromJson->encode(text), fromFiles->encode(text));
    }

    // Found by fuzz_bpe_tokenizer: an id that is not an integer (2.5, 1.2e31) was converted to
    // int64 (undefined behaviour for 1.2e31), and a huge one allocated a table that large.
    void tokenIdsMustBeIntegersInRange()
    {
        const std::string dir = m_dir + "/bad-ids";
        std::filesystem::create_directories(dir);
        core::writeFileAtomically(dir + "/merges.txt", "#version: 0.2\n");
        for (const auto& [id, expected] : std::vector<std::pair<std::string, std::string>>{
                 {"2.5", "the id of token 'b' is not an integer id (2.5)"},
                 {"1.2e31", "the id of token 'b' is not an integer id"},
                 {"18446744073709551615", "the id of token 'b' is not an integer id"},
                 {"1073741824", "id 1073741824 of token 'b' is beyond the largest supported id"}}) {
            core::writeFileAtomically(dir + "/vocab.json", R"({"a": 0, "b": )" + id + "}");
            try {
                core::loadTokenizer(dir);
                QFAIL(("accepted id " + id).c_str());
            } catch (const core::Error& e) {
                QVERIFY2(std::string(e.what()).find(expected) != std::string::npos, e.what());
            }
        }
    }

    void sentencePieceRoundTripAndBos()
    {
        const std::string dir = m_dir + "/sp";
        testsupport::writeSentencePieceTokenizer(dir, testsupport::sampleEnglishText(), 150);
        const auto tokenizer = core::loadTokenizer(dir);
        QCOMPARE(tokenizer->kind(), std::string("sentencepiece"));
        QCOMPARE(tokenizer->vocabSize(), std::int64_t(150));
        const std::string text = "The jury said the election was fine.";
        const auto ids = tokenizer->encode(text);
        QVERIFY(!ids.empty());
        QCOMPARE(tokenizer->decode(ids), text);
        const auto withBos = core::encodeWithBos(*tokenizer, text, 1);
        QCOMPARE(withBos.front(), std::int64_t(1));
        QCOMPARE(withBos.size(), ids.size() + 1);
        QVERIFY(std::equal(ids.begin(), ids.end(), withBos.begin() + 1));
    }

    void missingOrCorruptTokenizer()
    {
        const std::string empty = m_dir + "/empty";
        std::filesystem::create_directories(empty);
        try {
            core::loadTokenizer(empty);
            QFAIL("missing tokenizer accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("missing tokenizer"), e.what());
        }
        core::writeFileAtomically(empty + "/tokenizer.model", "definitely not a protobuf");
        try {
            core::loadTokenizer(empty);
            QFAIL("corrupt tokenizer.model accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("tokenizer.model"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
