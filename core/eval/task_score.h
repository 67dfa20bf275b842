#pragma once
// A zero-shot task's scores (eval/task_scoring.h computes them). Torch-free.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace core {

/// A calibration run stores the full-precision model's task metrics beside its own, named
/// "fp_acc", "fp_acc_norm", ...
inline const std::string kFullPrecisionPrefix = "fp_";

struct TaskMetric {
    std::string name; ///< "acc", "acc_norm", "acc_bytes", "perplexity"
    double value = 0.0;
    double standardError = std::numeric_limits<double>::quiet_NaN(); ///< NaN: not defined (n < 2, perplexity)
    bool reported = false; ///< the harness reports it for this task (and averages count it)
};

struct TaskScore {
    std::string task;
    std::int64_t documents = 0;
    std::vector<TaskMetric> metrics;
    std::string file; ///< the data file scored
    double seconds = 0.0;
    /// The metric, or nullptr.
    const TaskMetric* find(const std::string& name) const;
};

/// The mean of each task's acc (every harness task reports one): the "average accuracy" of the
/// papers' zero-shot tables. NaN for no tasks.
double averageAccuracy(const std::vector<TaskScore>& scores);

} // namespace core
