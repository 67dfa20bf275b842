#pragma once
// Runs the quantscope binary (QS_BINARY, set by CMake) as a user would and captures what it says;
// shared by the CLI test programs.

#include <QProcess>
#include <QStringList>
#include <QtTest>

#include <fstream>
#include <iterator>
#include <string>

namespace testsupport {

struct CliRun {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

inline CliRun runQuantscope(const QStringList& args)
{
    QProcess process;
    process.start(QStringLiteral(QS_BINARY), args);
    process.waitForFinished(120000);
    return {process.exitStatus() == QProcess::CrashExit ? 128 + 11 : process.exitCode(),
            process.readAllStandardOutput(), process.readAllStandardError()};
}

inline void writeFile(const std::string& path, const std::string& contents)
{
    std::ofstream(path, std::ios::binary) << contents;
}

inline std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

inline void replaceInFile(const std::string& path, const std::string& from, const std::string& to)
{
    std::string text = readFile(path);
    const auto at = text.find(from);
    QVERIFY2(at != std::string::npos, from.c_str());
    text.replace(at, from.size(), to);
    writeFile(path, text);
}

} // namespace testsupport
