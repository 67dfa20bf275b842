// Safetensors reader/writer: round trips in every weight dtype, and a clear
// error naming the file for each kind of corruption.

#include "io/checkpoint.h"
#include "io/tensor_io.h"
#include "tiny_models.h"
#include "util/error.h"

#include <QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace {

std::string writeRaw(const std::string& dir, const std::string& name, std::uint64_t headerLength,
                     const std::string& header, std::size_t dataBytes)
{
    const std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&headerLength), 8);
    out << header;
    out << std::string(dataBytes, '\0');
    return path;
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase() { m_dir = testsupport::makeTempDir("safetensors"); }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void roundTrip_data()
    {
        QTest::addColumn<int>("storage");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("F32") << static_cast<int>(core::StorageType::F32) << 0.0;
        QTest::newRow("F16") << static_cast<int>(core::StorageType::F16) << 1e-3;
        QTest::newRow("BF16") << static_cast<int>(core::StorageType::BF16) << 1e-2;
    }

    void roundTrip()
    {
        QFETCH(int, storage);
        QFETCH(double, tolerance);
        torch::manual_seed(1);
        const std::map<std::string, torch::Tensor> tensors{
            {"a.weight", torch::randn({7, 5})}, {"b.bias", torch::randn({3})}, {"empty", torch::zeros({0, 4})}};
        const std::string path = m_dir + "/round.safetensors";
        core::writeSafetensors(path, tensors, static_cast<core::StorageType>(storage), {{"format", "pt"}});
        const core::SafetensorsFile file(path);
        QCOMPARE(file.names().size(), std::size_t(3));
        QCOMPARE(file.metadata().at("format"), std::string("pt"));
        QCOMPARE(file.info("a.weight").shape, (std::vector<std::int64_t>{7, 5}));
        for (const auto& [name, tensor] : tensors) {
            const torch::Tensor loaded = core::loadFloat(file, name);
            QCOMPARE(loaded.dtype(), torch::kFloat32);
            QCOMPARE(loaded.sizes().vec(), tensor.sizes().vec());
            if (tensor.numel() > 0)
                QVERIFY((loaded - tensor).abs().max().item<double>() <= tolerance * 4.0);
        }
        // The data section starts 8-byte aligned, as the reference writer guarantees.
        std::uint64_t headerLength = 0;
        std::ifstream in(path, std::ios::binary);
        in.read(reinterpret_cast<char*>(&headerLength), 8);
        QCOMPARE(headerLength % 8, std::uint64_t(0));
    }

    void rejectsCorruptFiles_data()
    {
        QTest::addColumn<QString>("header");
        QTest::addColumn<qulonglong>("declaredLength"); // 0 = the header's real length
        QTest::addColumn<int>("dataBytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("header length beyond file") << "{}" << qulonglong(4096) << 0 << "beyond the file size";
        QTest::newRow("invalid json") << "{\"a\": [1," << qulonglong(0) << 0 << "not valid JSON";
        QTest::newRow("unknown dtype") << R"({"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})" << qulonglong(0)
                                       << 1 << "unknown dtype 'Q7'";
        QTest::newRow("offsets beyond data")
            << R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})" << qulonglong(0) << 8 << "out of range";
        QTest::newRow("offsets disagree with shape")
            << R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})" << qulonglong(0) << 8 << "need 12";
        QTest::newRow("reversed offsets")
            << R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})" << qulonglong(0) << 8 << "are reversed";
        QTest::newRow("overlapping tensors")
            << R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"
            << qulonglong(0) << 12 << "overlap";
        QTest::newRow("missing data_offsets")
            << R"({"w":{"dtype":"F32","shape":[1]}})" << qulonglong(0) << 4 << "needs dtype, shape and data_offsets";
    }

    void rejectsCorruptFiles()
    {
        QFETCH(QString, header);
        QFETCH(qulonglong, declaredLength);
        QFETCH(int, dataBytes);
        QFETCH(QString, expected);
        const std::string text = header.toStdString();
        const std::string path = writeRaw(m_dir, "corrupt.safetensors", declaredLength ? declaredLength : text.size(),
                                          text, static_cast<std::size_t>(dataBytes));
        try {
            core::SafetensorsFile file(path);
            QFAIL("corrupt file was accepted");
        } catch (const core::Error& e) {
            const QString message = QString::fromStdString(e.what());
            QVERIFY2(message.contains(expected), qPrintable(message));
            QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        }
    }

    void rejectsTruncatedFiles()
    {
        const std::string path = m_dir + "/truncated.safetensors";
        core::writeSafetensors(path, {{"w", torch::ones({64})}});
        std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::SafetensorsFile{path});
        std::filesystem::resize_file(path, 5);
        try {
            core::SafetensorsFile file(path);
            QFAIL("5-byte file was accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("truncated"), e.what());
        }
    }

    void nanWeightsAreNamed()
    {
        const std::string path = m_dir + "/nan.safetensors";
        torch::Tensor bad = torch::ones({4, 4});
        bad[2][3] = std::numeric_limits<float>::quiet_NaN();
        core::writeSafetensors(path, {{"good", torch::ones({2})}, {"layers.0.bad.weight", bad}});
        const core::SafetensorsFile file(path);
        QVERIFY(core::loadFloat(file, "good").sum().item<float>() == 2.0f);
        try {
            core::loadFloat(file, "layers.0.bad.weight");
            QFAIL("NaN weights were accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("layers.0.bad.weight contains NaN or Inf"), e.what());
        }
    }

    void shardedCheckpointResolvesEveryTensor()
    {
        const std::string dir = m_dir + "/sharded";
        testsupport::TinyModelSpec spec;
        spec.shards = 3;
        const auto tensors = testsupport::writeTinyModel(dir, spec);
        const core::Checkpoint checkpoint(dir);
        QCOMPARE(checkpoint.shardCount(), std::size_t(3));
        QCOMPARE(checkpoint.names().size(), tensors.size());
        for (const auto& [name, tensor] : tensors)
            QVERIFY(torch::equal(core::loadFloat(checkpoint, name), tensor));

        std::filesystem::remove(dir + "/model-00002-of-00003.safetensors");
        try {
            core::Checkpoint broken(dir);
            QFAIL("missing shard was accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains("model-00002-of-00003.safetensors"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
