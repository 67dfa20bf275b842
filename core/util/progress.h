#pragma once
// Progress reporting shared by every long operation (see ARCHITECTURE.md, "The job shape").

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace core {

struct ProgressEvent {
    std::string stage;     ///< short machine-readable stage name, e.g. "eval"
    double fraction = 0.0; ///< overall progress of the job in [0, 1]
    std::string message;   ///< human-readable detail, e.g. "window 3/40"
    /// Named numbers of this step for live plots, e.g. {"step", 17}, {"mse", 0.41}, {"total", 0.4}.
    std::vector<std::pair<std::string, double>> values;
};

/// Called on the thread that runs the job; must be cheap and must not throw.
using ProgressCallback = std::function<void(const ProgressEvent&)>;

inline void reportProgress(const ProgressCallback& callback, const ProgressEvent& event)
{
    if (callback)
        callback(event);
}

} // namespace core
