#include "util/thread_pool_environment.h"

#include <cstdlib>

namespace core {
namespace {

struct Setting {
    const char* name;
    const char* value;
};

constexpr Setting kSettings[] = {{"OMP_WAIT_POLICY", "PASSIVE"}, {"OPENBLAS_THREAD_TIMEOUT", "16"}};

} // namespace

bool setThreadPoolEnvironment()
{
    bool changed = false;
    for (const Setting& setting : kSettings)
        if (std::getenv(setting.name) == nullptr) {
            ::setenv(setting.name, setting.value, 1);
            changed = true;
        }
    return changed;
}

} // namespace core
