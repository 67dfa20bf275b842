#include "jobs/resources.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace core {
namespace {

std::string executableDirectory()
{
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

} // namespace

std::string resourceDirectory()
{
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("QUANTSCOPE_RESOURCES"); env && *env)
        return env;
#ifdef QS_RESOURCE_DIR
    if (fs::is_directory(QS_RESOURCE_DIR))
        return QS_RESOURCE_DIR;
#endif
    const std::string installed = executableDirectory() + "/../share/quantscope";
    return installed;
}

std::string defaultModelDirectory()
{
    return resourceDirectory() + "/models/brown-llama";
}

std::string defaultCalibrationText()
{
    return resourceDirectory() + "/data/brown_calibration.txt";
}

std::vector<std::string> defaultEvalTexts()
{
    std::vector<std::string> texts;
    for (const char* name : {"brown_test.txt", "kjv_test.txt"}) {
        const std::string path = resourceDirectory() + "/data/" + name;
        if (std::filesystem::exists(path))
            texts.push_back(path);
    }
    return texts;
}

} // namespace core
