#include "pipeline_eval.h"

#include "eval/perplexity.h"
#include "model/decoder_model.h"

namespace testsupport {

double perplexityWithBlocks(const std::string& modelDir, const core::PipelineResult& calibrated,
                            const std::vector<std::int64_t>& ids, std::int64_t maxWindows)
{
    core::DecoderModel model(modelDir);
    for (std::size_t i = 0; i < calibrated.quantizedBlocks.size(); ++i)
        model.replaceBlock(static_cast<std::int64_t>(i), calibrated.quantizedBlocks[i]);
    core::PerplexityOptions options;
    options.seqLen = 512;
    options.maxWindows = maxWindows;
    return core::evaluatePerplexity(model, ids, options).perplexity;
}

} // namespace testsupport
