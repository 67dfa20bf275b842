#include "jobs/eval_job.h"

#include "eval/perplexity.h"
#include "io/tokenizer.h"
#include "util/error.h"
#include "util/stopwatch.h"
#include "util/text_file.h"

#include <algorithm>

namespace core {

EvalJobResult runEvalJob(const EvalJobParams& params, const ProgressCallback& onProgress, const CancelToken& cancel)
{
    if (params.textPaths.empty())
        throw Error("eval: no text file given");
    if (params.seqLen < 0)
        throw Error("eval: seq_len must be positive, got " + std::to_string(params.seqLen));
    if (params.maxWindows < 0)
        throw Error("eval: max_windows must be >= 0, got " + std::to_string(params.maxWindows));
    const DecoderModel model(params.modelDir);
    const auto tokenizer = loadTokenizer(params.modelDir);
    // Read every text up front so that a missing file fails before minutes of work.
    std::vector<std::string> texts;
    for (const auto& path : params.textPaths)
        texts.push_back(readTextFile(path));

    EvalJobResult result;
    result.modelDir = params.modelDir;
    const double share = 1.0 / static_cast<double>(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        cancel.throwIfCancelled();
        const Stopwatch stopwatch;
        reportProgress(onProgress, {"tokenize", i * share, "tokenizing " + params.textPaths[i]});
        const auto ids = encodeWithBos(*tokenizer, texts[i], model.config().bosTokenId);
        PerplexityOptions options;
        options.seqLen = params.seqLen > 0 ? params.seqLen : std::min<std::int64_t>(model.config().maxPositions, 2048);
        options.maxWindows = params.maxWindows;
        const auto forward = [&](const ProgressEvent& event) {
            reportProgress(onProgress,
                           {event.stage, (i + event.fraction) * share, params.textPaths[i] + ": " + event.message});
        };
        PerplexityResult ppl;
        try {
            ppl = evaluatePerplexity(model, ids, options, forward, cancel);
        } catch (const Error& e) {
            throw Error(params.textPaths[i] + ": " + e.what());
        }
        TextPerplexity entry;
        entry.textPath = params.textPaths[i];
        entry.perplexity = ppl.perplexity;
        entry.meanNll = ppl.meanNll;
        entry.tokens = ppl.tokens;
        entry.windows = ppl.windows;
        entry.seqLen = ppl.seqLen;
        entry.seconds = stopwatch.seconds();
        result.texts.push_back(entry);
    }
    return result;
}

} // namespace core
