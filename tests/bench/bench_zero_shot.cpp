// bench_zero_shot: zero-shot scoring throughput (issue 19) on HellaSwag-shaped data (a context of
// ~3 sentences, 4 one-sentence endings) built from the bundled Brown test text, on the bundled
// model: documents/s with shared contexts (each context's forward once, its choices packed
// behind it) against one forward per choice (the harness's own way), in the same run, and the
// largest difference between the two ways' log-likelihoods (float32 rounding only).
// Prints one JSON object. Target: shared/naive documents/s >= 1.5.

#include "bench_timing.h"
#include "eval/harness_encoding.h"
#include "eval/task_scoring.h"
#include "io/tokenizer.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace {

// Documents of the HellaSwag shape from consecutive lines of the bundled test text.
core::ZeroShotTask hellaswagShaped(std::size_t documents)
{
    std::istringstream lines(core::readTextFile(core::defaultEvalTexts().at(0)));
    std::vector<std::string> sentences;
    for (std::string line; std::getline(lines, line);)
        if (std::count(line.begin(), line.end(), ' ') >= 8 && std::count(line.begin(), line.end(), ' ') <= 30)
            sentences.push_back(line);
    core::ZeroShotTask task;
    task.name = "hellaswag_shaped";
    task.format = core::taskFormatOf("jsonl");
    for (std::size_t d = 0; d < documents; ++d) {
        const std::size_t first = (d * 7) % (sentences.size() - 8);
        core::TaskDocument doc;
        const std::string context = sentences[first] + " " + sentences[first + 1] + " " + sentences[first + 2];
        for (std::size_t c = 0; c < 4; ++c) {
            doc.choices.push_back(sentences[first + 3 + c]);
            doc.requests.push_back({context, " " + doc.choices.back()});
        }
        task.documents.push_back(std::move(doc));
    }
    return task;
}

} // namespace

int main(int, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads(); // as the quantscope executable does
    const core::DecoderModel model(core::defaultModelDirectory());
    const auto tokenizer = core::loadTokenizer(model.directory());
    const core::HarnessEncoder encoder{*tokenizer, true, model.config().bosTokenId};
    const core::ZeroShotTask task = hellaswagShaped(200);
    std::vector<core::LoglikelihoodRequest> requests;
    for (const auto& doc : task.documents)
        for (const auto& request : doc.requests) {
            auto pair = core::encodeRequest(encoder, request.context, request.continuation);
            requests.push_back({pair.context, pair.continuation});
        }
    core::LoglikelihoodOptions options;
    options.maxLength = model.config().maxPositions;
    if (const char* budget = std::getenv("QS_BENCH_TOKENS_PER_BATCH"))
        options.tokensPerBatch = std::atoll(budget);
    std::vector<core::Loglikelihood> shared, naive;
    options.shareContexts = true;
    const double sharedSeconds =
        bench::bestSeconds([&] { shared = core::scoreLoglikelihoods(model, requests, options); }, 3, 1);
    options.shareContexts = false;
    const double naiveSeconds =
        bench::bestSeconds([&] { naive = core::scoreLoglikelihoods(model, requests, options); }, 3, 1);
    double maxDifference = 0.0;
    for (std::size_t i = 0; i < requests.size(); ++i)
        maxDifference = std::max(maxDifference, std::abs(shared[i].logLikelihood - naive[i].logLikelihood));
    std::size_t tokens = 0;
    for (const auto& r : requests)
        tokens += r.context.size() + r.continuation.size();
    const double documents = static_cast<double>(task.documents.size());
    const nlohmann::json report = {
        {"benchmark", "bench_zero_shot"},
        {"runtime", core::runtimeDescription()},
        {"model", model.directory()},
        {"documents", task.documents.size()},
        {"choices", requests.size()},
        {"mean_request_tokens", static_cast<double>(tokens) / static_cast<double>(requests.size())},
        {"shared_documents_per_second", documents / sharedSeconds},
        {"one_forward_per_choice_documents_per_second", documents / naiveSeconds},
        {"speedup", naiveSeconds / sharedSeconds},
        {"max_loglikelihood_difference", maxDifference},
        {"target_speedup", 1.5}};
    std::cout << report.dump(2) << "\n";
    return 0;
}
