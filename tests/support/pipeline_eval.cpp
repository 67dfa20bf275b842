#include "pipeline_eval.h"

#include "eval/perplexity.h"

namespace testsupport {

double perplexityOf(const core::DecoderModel& model, const std::vector<std::int64_t>& ids, std::int64_t maxWindows)
{
    core::PerplexityOptions options;
    options.seqLen = 512;
    options.maxWindows = maxWindows;
    return core::evaluatePerplexity(model, ids, options).perplexity;
}

} // namespace testsupport
