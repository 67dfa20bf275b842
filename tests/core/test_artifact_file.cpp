// ArtifactFile: exact round trips of every element type and rank, paths with dots,
// attributes, row reads through hyperslabs, the storage layout actually written
// (checked with the raw HDF5 C API, independently of the class), errors that name
// what is at fault, damaged files, and two writer threads on two files.

#include "store/artifact_file.h"

#include "util/error.h"

#include <QtTest>

#include <hdf5.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

namespace {

std::string pathIn(const QTemporaryDir& dir, const char* name)
{
    return dir.filePath(QString::fromUtf8(name)).toStdString();
}

// The message of the core::Error thrown by `call`, or an empty string if none was.
template <typename Call> QString errorOf(Call&& call)
{
    try {
        call();
    } catch (const core::Error& error) {
        return QString::fromUtf8(error.what());
    }
    return {};
}

// Bitwise, so that NaN, -0.0 and denormals count as round-tripped only if exact.
template <typename T> bool sameBits(const std::vector<T>& a, const std::vector<T>& b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <typename T> std::vector<T> specialValues()
{
    if constexpr (std::is_floating_point_v<T>) {
        using L = std::numeric_limits<T>;
        return {L::quiet_NaN(),  L::infinity(), -L::infinity(), T(-0.0),
                L::denorm_min(), L::max(),      L::lowest(),    L::epsilon()};
    } else {
        using L = std::numeric_limits<T>;
        return {L::min(), L::max(), T(0), T(1), static_cast<T>(L::max() - 1)};
    }
}

// Extremes first, then seeded random values over the type's range.
template <typename T> std::vector<T> sampleValues(std::int64_t count, std::uint32_t seed)
{
    std::vector<T> values = specialValues<T>();
    values.resize(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)), T(0));
    std::mt19937_64 random(seed);
    for (std::size_t i = std::min(values.size(), specialValues<T>().size()); i < values.size(); ++i) {
        if constexpr (std::is_floating_point_v<T>)
            values[i] = static_cast<T>(std::normal_distribution<double>(0.0, 3.0)(random));
        else if constexpr (std::is_same_v<T, std::uint8_t>)
            values[i] = static_cast<T>(std::uniform_int_distribution<int>(0, 255)(random));
        else
            values[i] = std::uniform_int_distribution<T>()(random);
    }
    return values;
}

std::vector<std::int64_t> parseShape(const QString& text)
{
    std::vector<std::int64_t> shape;
    for (const QString& dim : text.split(QLatin1Char('x')))
        shape.push_back(dim.toLongLong());
    return shape;
}

template <typename T> core::Array<T> readAs(const core::ArtifactFile& file, const std::string& path)
{
    if constexpr (std::is_same_v<T, float>)
        return file.readFloat(path);
    else if constexpr (std::is_same_v<T, double>)
        return file.readDouble(path);
    else if constexpr (std::is_same_v<T, std::int64_t>)
        return file.readInt64(path);
    else
        return file.readBytes(path);
}

// Writes, closes, reopens read-only and compares bit for bit.
template <typename T> void checkRoundTrip(const std::string& filePath, const std::vector<std::int64_t>& shape)
{
    core::Array<T> written;
    written.shape = shape;
    written.values = sampleValues<T>(written.numel(), 11);
    {
        core::ArtifactFile file(filePath, core::ArtifactMode::Create);
        file.write("/data/array", written);
    }
    const core::ArtifactFile file(filePath, core::ArtifactMode::ReadOnly);
    const core::Array<T> read = readAs<T>(file, "/data/array");
    QCOMPARE(read.shape, shape);
    QCOMPARE(file.shape("/data/array"), shape);
    QVERIFY(sameBits(read.values, written.values));
}

// Storage facts read with the raw C API, not through ArtifactFile.
struct Layout {
    H5D_layout_t layout = H5D_LAYOUT_ERROR;
    std::vector<hsize_t> chunk;
    std::vector<H5Z_filter_t> filters;
};

Layout rawLayout(const std::string& filePath, const char* datasetPath)
{
    Layout result;
    const hid_t file = H5Fopen(filePath.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t dataset = H5Dopen2(file, datasetPath, H5P_DEFAULT);
    const hid_t dcpl = H5Dget_create_plist(dataset);
    result.layout = H5Pget_layout(dcpl);
    if (result.layout == H5D_CHUNKED) {
        result.chunk.resize(H5S_MAX_RANK);
        result.chunk.resize(static_cast<std::size_t>(H5Pget_chunk(dcpl, H5S_MAX_RANK, result.chunk.data())));
    }
    for (int i = 0; i < H5Pget_nfilters(dcpl); ++i) {
        unsigned flags = 0;
        std::size_t count = 0;
        unsigned config = 0;
        result.filters.push_back(
            H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &count, nullptr, 0, nullptr, &config));
    }
    H5Pclose(dcpl);
    H5Dclose(dataset);
    H5Fclose(file);
    return result;
}

bool contains(const std::vector<H5Z_filter_t>& filters, H5Z_filter_t filter)
{
    return std::find(filters.begin(), filters.end(), filter) != filters.end();
}

// A [rows, cols] float table whose every value names its position.
core::FloatArray positionTable(std::int64_t rows, std::int64_t cols)
{
    core::FloatArray table{{rows, cols}, std::vector<float>(static_cast<std::size_t>(rows * cols))};
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
            table.values[static_cast<std::size_t>(r * cols + c)] = static_cast<float>(r * 1000 + c);
    return table;
}

void writeSampleRun(const std::string& filePath)
{
    core::ArtifactFile file(filePath, core::ArtifactMode::Create);
    file.write("/calibration/offsets", core::Int64Array{{64}, sampleValues<std::int64_t>(64, 1)});
    for (int layer = 0; layer < 4; ++layer) {
        const std::string group = "/layers/model.layers." + std::to_string(layer) + ".mlp.down_proj";
        file.write(group + "/codes",
                   core::ByteArray{{128, 64}, sampleValues<std::uint8_t>(std::int64_t{128} * 64, layer)});
        file.write(group + "/scales", core::FloatArray{{128, 1}, sampleValues<float>(128, layer)});
        file.setAttribute(group, "bits", 4);
    }
}

} // namespace

class TestArtifactFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTripsExactly_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("shape");
        for (const char* type : {"float32", "float64", "int64", "uint8"})
            for (const char* shape : {"37", "5x7", "2x3x4", "2x2x3x2", "300x40", "20x30x40", "0x5"})
                QTest::addRow("%s %s", type, shape) << type << shape;
    }

    void roundTripsExactly()
    {
        QFETCH(QString, type);
        QFETCH(QString, shape);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        if (type == QLatin1String("float32"))
            checkRoundTrip<float>(filePath, parseShape(shape));
        else if (type == QLatin1String("float64"))
            checkRoundTrip<double>(filePath, parseShape(shape));
        else if (type == QLatin1String("int64"))
            checkRoundTrip<std::int64_t>(filePath, parseShape(shape));
        else
            checkRoundTrip<std::uint8_t>(filePath, parseShape(shape));
    }

    void dottedLayerPathCreatesGroups()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        const std::string layer = "/layers/model.layers.3.mlp.down_proj";
        const core::ByteArray codes{{2, 3}, {0, 1, 2, 253, 254, 255}};
        file.write(layer + "/codes", codes);

        QVERIFY(file.exists("/"));
        QVERIFY(file.exists("/layers"));
        QVERIFY(file.exists(layer));
        QVERIFY(file.exists(layer + "/codes"));
        QVERIFY(!file.exists("/layers/model.layers.3.mlp")); // the dots did not split the name
        QVERIFY(!file.exists("/missing/deeper/still"));
        QVERIFY(!file.exists(layer + "/codes/below_a_dataset"));
        QCOMPARE(file.children("/layers"), std::vector<std::string>{"model.layers.3.mlp.down_proj"});
        QCOMPARE(file.children(layer), std::vector<std::string>{"codes"});
        // The same object under a relative spelling and with doubled separators.
        QCOMPARE(file.readBytes("layers/model.layers.3.mlp.down_proj//codes").values, codes.values);
    }

    void childrenAreSortedByName()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        for (const char* name : {"b", "a10", "C", "a2", "_x"})
            file.write(std::string("/g/") + name, core::DoubleArray{{1}, {1.0}});
        file.createGroup("/g/sub.group");
        QCOMPARE(file.children("/g"), (std::vector<std::string>{"C", "_x", "a10", "a2", "b", "sub.group"}));
        QCOMPARE(file.children("/"), std::vector<std::string>{"g"});
        QVERIFY(file.children("/g/sub.group").empty());
        QVERIFY(errorOf([&] { file.children("/g/b"); }).contains(QLatin1String("/g/b")));
        QVERIFY(errorOf([&] { file.children("/nowhere"); }).contains(QLatin1String("/nowhere")));
    }

    void attributesRoundTrip_data()
    {
        QTest::addColumn<bool>("onDataset");
        QTest::newRow("group") << false;
        QTest::newRow("dataset") << true;
    }

    void attributesRoundTrip()
    {
        QFETCH(bool, onDataset);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        const std::string object =
            onDataset ? "/layers/model.layers.0.self_attn.q_proj/scales" : "/layers/model.layers.0";
        const std::vector<double> doubles{1.5, -2.25, std::numeric_limits<double>::quiet_NaN(), -0.0};
        {
            core::ArtifactFile file(filePath, core::ArtifactMode::Create);
            if (onDataset)
                file.write(object, core::FloatArray{{2}, {0.5f, 0.25f}});
            else
                file.createGroup(object);
            file.setAttribute(object, "method", std::string("gptq µ ✓"));
            file.setAttribute(object, "empty", std::string());
            file.setAttribute(object, "min", std::numeric_limits<std::int64_t>::min());
            file.setAttribute(object, "max", std::numeric_limits<std::int64_t>::max());
            file.setAttribute(object, "bits", 3);
            file.setAttribute(object, "damp", 0.01);
            file.setAttribute(object, "inf", -std::numeric_limits<double>::infinity());
            file.setAttribute(object, "edges", doubles);
            file.setAttribute(object, "none", std::vector<double>{});
            // Replacing an attribute may change its type.
            file.setAttribute(object, "group_size", std::string("per-channel"));
            file.setAttribute(object, "group_size", std::int64_t{128});
        }
        const core::ArtifactFile file(filePath, core::ArtifactMode::ReadOnly);
        QCOMPARE(file.stringAttribute(object, "method"), std::string("gptq µ ✓"));
        QCOMPARE(file.stringAttribute(object, "empty"), std::string());
        QCOMPARE(file.int64Attribute(object, "min"), std::numeric_limits<std::int64_t>::min());
        QCOMPARE(file.int64Attribute(object, "max"), std::numeric_limits<std::int64_t>::max());
        QCOMPARE(file.int64Attribute(object, "bits"), std::int64_t{3});
        QCOMPARE(file.int64Attribute(object, "group_size"), std::int64_t{128});
        QCOMPARE(file.doubleAttribute(object, "damp"), 0.01);
        QCOMPARE(file.doubleAttribute(object, "inf"), -std::numeric_limits<double>::infinity());
        QVERIFY(sameBits(file.doublesAttribute(object, "edges"), doubles));
        QVERIFY(file.doublesAttribute(object, "none").empty());
        QVERIFY(file.hasAttribute(object, "bits"));
        QVERIFY(!file.hasAttribute(object, "absent"));

        const QString path = QString::fromStdString(filePath);
        const QString wrongType = errorOf([&] { file.int64Attribute(object, "damp"); });
        QVERIFY2(wrongType.contains(QLatin1String("'damp'")) && wrongType.contains(QLatin1String("float64")) &&
                     wrongType.contains(QLatin1String("int64")),
                 qPrintable(wrongType));
        QVERIFY(!errorOf([&] { file.stringAttribute(object, "bits"); }).isEmpty());
        QVERIFY(!errorOf([&] { file.doubleAttribute(object, "edges"); }).isEmpty()); // four values, not one
        const QString missing = errorOf([&] { file.stringAttribute(object, "absent"); });
        QVERIFY2(missing.contains(path) && missing.contains(QString::fromStdString(object)) &&
                     missing.contains(QLatin1String("'absent'")),
                 qPrintable(missing));
        const QString noObject = errorOf([&] { file.hasAttribute("/layers/nothing", "bits"); });
        QVERIFY2(noObject.contains(QLatin1String("/layers/nothing")), qPrintable(noObject));
    }

    void replacingChangesShapeAndType()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        file.write("/x", core::FloatArray{{4, 4}, std::vector<float>(16, 1.0f)});
        file.write("/x", positionTable(10, 300)); // now chunked
        QCOMPARE(file.shape("/x"), (std::vector<std::int64_t>{10, 300}));
        QCOMPARE(file.readFloat("/x").values, positionTable(10, 300).values);
        file.write("/x", core::ByteArray{{3}, {7, 8, 9}});
        QCOMPARE(file.readBytes("/x").values, (std::vector<std::uint8_t>{7, 8, 9}));
        QCOMPARE(file.children("/"), std::vector<std::string>{"x"});
        file.createGroup("/g");
        QVERIFY(errorOf([&] { file.write("/g", core::ByteArray{{1}, {1}}); }).contains(QLatin1String("/g")));
        QVERIFY(file.exists("/g"));
        const QString underDataset = errorOf([&] { file.write("/x/y/z", core::ByteArray{{1}, {1}}); });
        QVERIFY2(underDataset.contains(QLatin1String("/x/y/z")) &&
                     underDataset.contains(QLatin1String("/x is a dataset")),
                 qPrintable(underDataset));
        QVERIFY(!errorOf([&] { file.createGroup("/x/sub"); }).isEmpty());
    }

    void invalidShapesAreRejected()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        const QString mismatch = errorOf([&] { file.write("/bad", core::FloatArray{{2, 3}, {1, 2, 3}}); });
        QVERIFY2(mismatch.contains(QLatin1String("/bad")) && mismatch.contains(QLatin1String("[2, 3]")),
                 qPrintable(mismatch));
        QVERIFY(!errorOf([&] { file.write("/scalar", core::FloatArray{{}, {1.0f}}); }).isEmpty());
        QVERIFY(!errorOf([&] { file.write("/negative", core::FloatArray{{-1}, {}}); }).isEmpty());
        QVERIFY(!file.exists("/bad"));
    }

    void readFloatRowsReadsExactlyThoseRows_data()
    {
        QTest::addColumn<qint64>("first");
        QTest::addColumn<qint64>("count");
        QTest::newRow("first row") << qint64(0) << qint64(1);
        QTest::newRow("last row") << qint64(999) << qint64(1);
        QTest::newRow("across chunks") << qint64(250) << qint64(300);
        QTest::newRow("all") << qint64(0) << qint64(1000);
        QTest::newRow("none") << qint64(500) << qint64(0);
    }

    void readFloatRowsReadsExactlyThoseRows()
    {
        QFETCH(qint64, first);
        QFETCH(qint64, count);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        const core::FloatArray table = positionTable(1000, 256);
        file.write("/hist/model.layers.0/counts", table);
        const core::FloatArray rows = file.readFloatRows("/hist/model.layers.0/counts", first, count);
        QCOMPARE(rows.shape, (std::vector<std::int64_t>{count, 256}));
        const auto begin = table.values.begin() + first * 256;
        QCOMPARE(rows.values, std::vector<float>(begin, begin + count * 256));
    }

    void readFloatRowsChecksBounds()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        file.write("/t", positionTable(1000, 256));
        file.write("/v", core::FloatArray{{5}, {0, 1, 2, 3, 4}});
        file.write("/codes", core::ByteArray{{2, 2}, {1, 2, 3, 4}});
        const std::pair<std::int64_t, std::int64_t> bad[] = {{-1, 1}, {0, 1001}, {999, 2}, {10, -1}, {1000, 1}};
        for (const auto& range : bad) {
            const QString message = errorOf([&] { file.readFloatRows("/t", range.first, range.second); });
            QVERIFY2(message.contains(QLatin1String("/t")) && message.contains(QLatin1String("1000")),
                     qPrintable(QString("[%1, +%2): %3").arg(range.first).arg(range.second).arg(message)));
        }
        // Rank 1: rows are elements.
        QCOMPARE(file.readFloatRows("/v", 3, 2).values, (std::vector<float>{3, 4}));
        QVERIFY(errorOf([&] { file.readFloatRows("/codes", 0, 1); }).contains(QLatin1String("uint8")));
        QVERIFY(errorOf([&] { file.readFloatRows("/none", 0, 1); }).contains(QLatin1String("/none")));
    }

    void largeDatasetsAreChunkedAndCompressed()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        core::FloatArray table{{2000, 512}, std::vector<float>(std::size_t{2000} * 512)};
        for (std::size_t i = 0; i < table.values.size(); ++i)
            table.values[i] = static_cast<float>((i / 512) % 7) * 0.5f + static_cast<float>(i % 13);
        {
            core::ArtifactFile file(filePath, core::ArtifactMode::Create);
            file.write("/hist/values", table);
            file.write("/small", core::FloatArray{{4, 4}, std::vector<float>(16, 2.0f)});
            file.write("/wide", core::FloatArray{{2, 100000}, std::vector<float>(200000, 1.0f)});
            file.write("/codes", core::ByteArray{{5000}, std::vector<std::uint8_t>(5000, 3)});
        }
        const Layout large = rawLayout(filePath, "/hist/values");
        QCOMPARE(large.layout, H5D_CHUNKED);
        QCOMPARE(large.chunk, (std::vector<hsize_t>{128, 512})); // whole rows, 256 KiB
        QVERIFY(contains(large.filters, H5Z_FILTER_SHUFFLE));
        QVERIFY(contains(large.filters, H5Z_FILTER_DEFLATE));

        const Layout small = rawLayout(filePath, "/small");
        QVERIFY(small.layout == H5D_CONTIGUOUS || small.layout == H5D_COMPACT);
        QVERIFY(small.filters.empty());

        // A row larger than a chunk is split along its own length.
        QCOMPARE(rawLayout(filePath, "/wide").chunk, (std::vector<hsize_t>{1, 65536}));
        const Layout codes = rawLayout(filePath, "/codes");
        QCOMPARE(codes.layout, H5D_CHUNKED);
        QVERIFY(contains(codes.filters, H5Z_FILTER_DEFLATE));

        const auto rawBytes = static_cast<std::uintmax_t>((table.values.size() + 200000) * sizeof(float) + 5000);
        const std::uintmax_t fileBytes = std::filesystem::file_size(filePath);
        QVERIFY2(fileBytes * 10 < rawBytes,
                 qPrintable(QString("%1 bytes on disk for %2 raw").arg(fileBytes).arg(rawBytes)));
        const core::ArtifactFile file(filePath, core::ArtifactMode::ReadOnly);
        QCOMPARE(file.readFloat("/hist/values").values, table.values);
    }

    void typeMismatchNamesBothTypes()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        core::ArtifactFile file(filePath, core::ArtifactMode::Create);
        file.write("/layers/l.0/codes", core::ByteArray{{4}, {1, 2, 3, 4}});
        file.write("/layers/l.0/offsets", core::Int64Array{{2}, {1, 2}});
        const QString message = errorOf([&] { file.readFloat("/layers/l.0/codes"); });
        QVERIFY2(message.contains(QString::fromStdString(filePath)) &&
                     message.contains(QLatin1String("/layers/l.0/codes")) && message.contains(QLatin1String("uint8")) &&
                     message.contains(QLatin1String("float32")),
                 qPrintable(message));
        QVERIFY(!errorOf([&] { file.readDouble("/layers/l.0/codes"); }).isEmpty());
        QVERIFY(!errorOf([&] { file.readInt64("/layers/l.0/codes"); }).isEmpty());
        QVERIFY(!errorOf([&] { file.readBytes("/layers/l.0/offsets"); }).isEmpty());
        QVERIFY(!errorOf([&] { file.readFloat("/layers/l.0"); }).isEmpty()); // a group
    }

    void missingThingsAreErrorsNamingThem()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        const QString path = QString::fromStdString(filePath);
        core::ArtifactFile file(filePath, core::ArtifactMode::Create);
        file.write("/present", core::DoubleArray{{1}, {1.0}});
        for (const QString& message : {errorOf([&] { file.readFloat("/layers/nope/codes"); }),
                                       errorOf([&] { file.shape("/layers/nope/codes"); }),
                                       errorOf([&] { file.readFloatRows("/layers/nope/codes", 0, 1); })})
            QVERIFY2(message.contains(path) && message.contains(QLatin1String("/layers/nope/codes")),
                     qPrintable(message));
        const QString attribute = errorOf([&] { file.doubleAttribute("/present", "scale"); });
        QVERIFY2(attribute.contains(path) && attribute.contains(QLatin1String("/present")) &&
                     attribute.contains(QLatin1String("'scale'")),
                 qPrintable(attribute));
        QVERIFY(errorOf([&] { file.setAttribute("/absent", "a", 1.0); }).contains(QLatin1String("/absent")));
        QVERIFY(errorOf([&] { file.remove("/absent"); }).contains(QLatin1String("/absent")));
    }

    void removeUnlinks()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        core::ArtifactFile file(pathIn(dir, "artifacts.h5"), core::ArtifactMode::Create);
        file.write("/a/b.c/x", core::DoubleArray{{1}, {1.0}});
        file.write("/a/b.c/y", core::DoubleArray{{1}, {2.0}});
        file.remove("/a/b.c/x");
        QVERIFY(!file.exists("/a/b.c/x"));
        QCOMPARE(file.children("/a/b.c"), std::vector<std::string>{"y"});
        file.remove("/a");
        QVERIFY(!file.exists("/a/b.c/y"));
        QVERIFY(file.children("/").empty());
        QVERIFY(!errorOf([&] { file.remove("/"); }).isEmpty());
    }

    void readOnlyFilesRejectWrites()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        writeSampleRun(filePath);
        {
            core::ArtifactFile file(filePath, core::ArtifactMode::ReadOnly);
            const QString path = QString::fromStdString(filePath);
            QVERIFY(errorOf([&] { file.write("/new", core::DoubleArray{{1}, {1.0}}); }).contains(path));
            QVERIFY(errorOf([&] { file.setAttribute("/", "a", 1.0); }).contains(path));
            QVERIFY(errorOf([&] { file.remove("/calibration/offsets"); }).contains(path));
            QCOMPARE(file.readInt64("/calibration/offsets").values, sampleValues<std::int64_t>(64, 1));
        }
        // ReadWrite keeps what is there and adds to it. (The read-only handle is
        // closed first: HDF5 refuses to reopen a file read-write that this process
        // has open read-only.)
        core::ArtifactFile file(filePath, core::ArtifactMode::ReadWrite);
        file.write("/new", core::DoubleArray{{1}, {1.0}});
        QCOMPARE(file.children("/"), (std::vector<std::string>{"calibration", "layers", "new"}));
        QCOMPARE(file.int64Attribute("/layers/model.layers.2.mlp.down_proj", "bits"), std::int64_t{4});
    }

    void flushedFileIsCompleteOnDisk()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        const std::string copyPath = pathIn(dir, "copy.h5");
        core::ArtifactFile file(filePath, core::ArtifactMode::Create);
        file.write("/t", positionTable(100, 64));
        file.setAttribute("/t", "unit", std::string("count"));
        file.flush();
        // A copy taken while the file is still open must be a complete file.
        std::filesystem::copy_file(filePath, copyPath);
        const core::ArtifactFile copy(copyPath, core::ArtifactMode::ReadOnly);
        QCOMPARE(copy.readFloat("/t").values, positionTable(100, 64).values);
        QCOMPARE(copy.stringAttribute("/t", "unit"), std::string("count"));
    }

    void movedFileStaysOpen()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "artifacts.h5");
        core::ArtifactFile first(filePath, core::ArtifactMode::Create);
        first.write("/x", core::Int64Array{{2}, {5, 6}});
        const core::ArtifactFile second(std::move(first));
        QCOMPARE(second.path(), filePath);
        QCOMPARE(second.readInt64("/x").values, (std::vector<std::int64_t>{5, 6}));
        QVERIFY(!errorOf([&] { first.exists("/x"); }).isEmpty()); // NOLINT(bugprone-use-after-move): on purpose
    }

    void filesFromOtherWritersAreRead()
    {
        // h5py and other tools may store fixed-length strings, big-endian floats or
        // narrower integers; written here with the raw C API.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "foreign.h5");
        {
            const hid_t file = H5Fcreate(filePath.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
            const hsize_t three[1] = {3};
            const hid_t vector = H5Screate_simple(1, three, nullptr);
            const float floats[3] = {1.5f, -2.0f, 1e30f};
            const hid_t big =
                H5Dcreate2(file, "/big_endian", H5T_IEEE_F32BE, vector, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Dwrite(big, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, floats);
            const int ints[3] = {1, 2, 3};
            const hid_t narrow =
                H5Dcreate2(file, "/int32", H5T_STD_I32LE, vector, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Dwrite(narrow, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints);
            const hid_t fixed = H5Tcopy(H5T_C_S1);
            H5Tset_size(fixed, 8);
            H5Tset_strpad(fixed, H5T_STR_NULLPAD);
            const hid_t scalar = H5Screate(H5S_SCALAR);
            const hid_t attribute = H5Acreate2(big, "unit", fixed, scalar, H5P_DEFAULT, H5P_DEFAULT);
            const char text[8] = {'l', 'o', 'g', 'i', 't', 's', '\0', '\0'};
            H5Awrite(attribute, fixed, text);
            H5Aclose(attribute);
            H5Sclose(scalar);
            H5Tclose(fixed);
            H5Dclose(narrow);
            H5Dclose(big);
            H5Sclose(vector);
            H5Fclose(file);
        }
        const core::ArtifactFile file(filePath, core::ArtifactMode::ReadOnly);
        QCOMPARE(file.readFloat("/big_endian").values, (std::vector<float>{1.5f, -2.0f, 1e30f}));
        QCOMPARE(file.stringAttribute("/big_endian", "unit"), std::string("logits"));
        const QString message = errorOf([&] { file.readInt64("/int32"); });
        QVERIFY2(message.contains(QLatin1String("int32")) && message.contains(QLatin1String("int64")),
                 qPrintable(message));
    }

    void damagedOrMissingFilesAreErrors_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<bool>("readWrite");
        for (const char* damage : {"missing", "random bytes", "empty", "truncated to half", "directory"}) {
            QTest::addRow("%s, read-only", damage) << damage << false;
            QTest::addRow("%s, read-write", damage) << damage << true;
        }
    }

    void damagedOrMissingFilesAreErrors()
    {
        QFETCH(QString, damage);
        QFETCH(bool, readWrite);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        std::string filePath = pathIn(dir, "artifacts.h5");
        if (damage == QLatin1String("random bytes")) {
            std::ofstream out(filePath, std::ios::binary);
            std::mt19937 random(5);
            for (int i = 0; i < 4096; ++i)
                out.put(static_cast<char>(random() & 0xff));
        } else if (damage == QLatin1String("empty")) {
            std::ofstream out(filePath, std::ios::binary);
        } else if (damage == QLatin1String("truncated to half")) {
            writeSampleRun(filePath);
            std::filesystem::resize_file(filePath, std::filesystem::file_size(filePath) / 2);
        } else if (damage == QLatin1String("directory")) {
            filePath = dir.path().toStdString();
        }
        const auto mode = readWrite ? core::ArtifactMode::ReadWrite : core::ArtifactMode::ReadOnly;
        const QString message = errorOf([&] { core::ArtifactFile file(filePath, mode); });
        QVERIFY2(message.contains(QString::fromStdString(filePath)), qPrintable(message));
    }

    void createNeedsAnExistingDirectory()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string filePath = pathIn(dir, "runs/missing/artifacts.h5");
        const QString message = errorOf([&] { core::ArtifactFile file(filePath, core::ArtifactMode::Create); });
        QVERIFY2(message.contains(QString::fromStdString(filePath)) &&
                     message.contains(QLatin1String("does not exist")),
                 qPrintable(message));
        // Create truncates an existing file.
        const std::string existing = pathIn(dir, "artifacts.h5");
        writeSampleRun(existing);
        const core::ArtifactFile file(existing, core::ArtifactMode::Create);
        QVERIFY(file.children("/").empty());
    }

    void twoThreadsWriteTwoFiles()
    {
        // The GUI reads one run's file while workers write others: every HDF5 call
        // must be serialized, or the library's shared state is corrupted.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        constexpr int kDatasets = 1000;
        const std::string readPath = pathIn(dir, "read.h5");
        {
            core::ArtifactFile file(readPath, core::ArtifactMode::Create);
            file.write("/t", positionTable(1000, 16));
        }
        std::atomic<bool> writing{true};
        std::exception_ptr failures[3];
        auto writer = [&](int index) {
            try {
                core::ArtifactFile file(pathIn(dir, index == 0 ? "a.h5" : "b.h5"), core::ArtifactMode::Create);
                for (std::int64_t i = 0; i < kDatasets; ++i) {
                    const std::string path = "/layers/model.layers." + std::to_string(i) + ".w/codes";
                    file.write(path, core::Int64Array{{3}, {i, -i, index}});
                    file.setAttribute(path, "index", i);
                }
            } catch (...) {
                failures[index] = std::current_exception();
            }
        };
        auto reader = [&] {
            try {
                const core::ArtifactFile file(readPath, core::ArtifactMode::ReadOnly);
                for (std::int64_t row = 0; writing; row = (row + 37) % 1000)
                    if (file.readFloatRows("/t", row, 1).values.at(5) != static_cast<float>(row * 1000 + 5))
                        throw core::Error("row " + std::to_string(row) + " read wrong");
            } catch (...) {
                failures[2] = std::current_exception();
            }
        };
        std::thread first(writer, 0), second(writer, 1), third(reader);
        first.join();
        second.join();
        writing = false;
        third.join();
        for (const auto& failure : failures) {
            try {
                if (failure)
                    std::rethrow_exception(failure);
            } catch (const std::exception& error) {
                QFAIL(error.what());
            }
        }
        for (int index = 0; index < 2; ++index) {
            const core::ArtifactFile file(pathIn(dir, index == 0 ? "a.h5" : "b.h5"), core::ArtifactMode::ReadOnly);
            QCOMPARE(file.children("/layers").size(), std::size_t{kDatasets});
            for (std::int64_t i = 0; i < kDatasets; ++i) {
                const std::string path = "/layers/model.layers." + std::to_string(i) + ".w/codes";
                QCOMPARE(file.readInt64(path).values, (std::vector<std::int64_t>{i, -i, index}));
                QCOMPARE(file.int64Attribute(path, "index"), i);
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestArtifactFile)
#include "test_artifact_file.moc"
