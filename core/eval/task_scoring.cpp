#include "eval/task_scoring.h"

#include "eval/python_text.h"
#include "util/error.h"
#include "util/stopwatch.h"

#include <algorithm>
#include <cmath>

namespace core {
namespace {

// The harness's mean and mean_stderr over per-document values.
TaskMetric meanMetric(const std::string& name, const std::vector<double>& values, const TaskFormat& format)
{
    TaskMetric metric;
    metric.name = name;
    metric.reported =
        std::find(format.reportedMetrics.begin(), format.reportedMetrics.end(), name) != format.reportedMetrics.end();
    const auto n = static_cast<double>(values.size());
    double sum = 0.0;
    for (double v : values)
        sum += v;
    metric.value = sum / n;
    if (values.size() > 1) {
        double squares = 0.0;
        for (double v : values)
            squares += (v - metric.value) * (v - metric.value);
        metric.standardError = std::sqrt(squares / (n - 1.0)) / std::sqrt(n);
    }
    return metric;
}

// np.argmax: the first index of the largest value.
std::size_t argmax(const std::vector<double>& values)
{
    return static_cast<std::size_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

} // namespace

const TaskMetric* TaskScore::find(const std::string& name) const
{
    const auto it = std::find_if(metrics.begin(), metrics.end(), [&](const TaskMetric& m) { return m.name == name; });
    return it == metrics.end() ? nullptr : &*it;
}

TaskScore taskMetrics(const ZeroShotTask& task, const std::vector<std::vector<Loglikelihood>>& results)
{
    if (results.size() != task.documents.size())
        throw Error("task " + task.name + ": " + std::to_string(results.size()) + " results for " +
                    std::to_string(task.documents.size()) + " documents");
    TaskScore score;
    score.task = task.name;
    score.documents = static_cast<std::int64_t>(task.documents.size());
    if (task.format.output == TaskOutput::Loglikelihood) {
        std::vector<double> greedy;
        double llSum = 0.0;
        for (const auto& doc : results) {
            greedy.push_back(doc.at(0).greedy ? 1.0 : 0.0);
            llSum += doc.at(0).logLikelihood;
        }
        TaskMetric perplexity;
        perplexity.name = "perplexity";
        perplexity.value = std::exp(-llSum / static_cast<double>(results.size()));
        perplexity.reported = true;
        score.metrics = {meanMetric("acc", greedy, task.format), perplexity};
        return score;
    }
    std::vector<double> acc, accNorm, accBytes;
    for (std::size_t d = 0; d < results.size(); ++d) {
        const TaskDocument& doc = task.documents[d];
        std::vector<double> ll, perChar, perByte;
        for (std::size_t i = 0; i < results[d].size(); ++i) {
            const double value = results[d][i].logLikelihood;
            ll.push_back(value);
            perChar.push_back(value / static_cast<double>(python::length(doc.choices.at(i))));
            perByte.push_back(value / static_cast<double>(doc.choices.at(i).size()));
        }
        const auto gold = static_cast<std::size_t>(doc.gold);
        acc.push_back(argmax(ll) == gold ? 1.0 : 0.0);
        accNorm.push_back(argmax(perChar) == gold ? 1.0 : 0.0);
        accBytes.push_back(argmax(perByte) == gold ? 1.0 : 0.0);
    }
    score.metrics = {meanMetric("acc", acc, task.format), meanMetric("acc_norm", accNorm, task.format),
                     meanMetric("acc_bytes", accBytes, task.format)};
    return score;
}

TaskScore scoreZeroShotTask(const DecoderModel& model, const HarnessEncoder& encoder, const ZeroShotTask& task,
                            const LoglikelihoodOptions& options, const ProgressCallback& onProgress,
                            const CancelToken& cancel)
{
    const Stopwatch stopwatch;
    std::vector<LoglikelihoodRequest> requests;
    std::vector<std::size_t> firstRequest;
    for (std::size_t d = 0; d < task.documents.size(); ++d) {
        firstRequest.push_back(requests.size());
        for (const TaskRequest& request : task.documents[d].requests) {
            try {
                EncodedPair pair = encodeRequest(encoder, request.context, request.continuation);
                requests.push_back({std::move(pair.context), std::move(pair.continuation)});
            } catch (const Error& e) {
                throw Error(task.dataPath + ": document " + std::to_string(d + 1) + ": " + e.what());
            }
        }
    }
    const auto progress = [&](const ProgressEvent& event) {
        reportProgress(onProgress, {"eval", event.fraction, task.name + ": " + event.message});
    };
    const std::vector<Loglikelihood> flat = scoreLoglikelihoods(model, requests, options, progress, cancel);
    std::vector<std::vector<Loglikelihood>> results(task.documents.size());
    for (std::size_t d = 0; d < task.documents.size(); ++d)
        results[d].assign(flat.begin() + static_cast<std::ptrdiff_t>(firstRequest[d]),
                          flat.begin() +
                              static_cast<std::ptrdiff_t>(firstRequest[d] + task.documents[d].requests.size()));
    TaskScore score = taskMetrics(task, results);
    score.file = task.dataPath;
    score.seconds = stopwatch.seconds();
    return score;
}

double averageAccuracy(const std::vector<TaskScore>& scores)
{
    if (scores.empty())
        return std::numeric_limits<double>::quiet_NaN();
    double sum = 0.0;
    for (const TaskScore& score : scores)
        sum += score.find("acc") ? score.find("acc")->value : std::numeric_limits<double>::quiet_NaN();
    return sum / static_cast<double>(scores.size());
}

} // namespace core
