#include "small_run.h"

#include "jobs/eval_job.h"
#include "tiny_model_files.h"
#include "tiny_models.h"
#include "util/text_file.h"

namespace testsupport {

SmallRunFiles writeSmallRunFiles(const std::string& dir, unsigned seed)
{
    SmallRunFiles files{dir + "/tiny", dir + "/calib.txt", dir + "/heldout.txt"};
    writeTinyLlamaWithTokenizer(files.model, seed);
    const std::string text = sampleEnglishText();
    core::writeFileAtomically(files.calibrationText, text + text);
    core::writeFileAtomically(files.evalText, text);
    return files;
}

core::RunConfig smallRunConfig(const SmallRunFiles& files, const std::string& method)
{
    core::RunConfig config = core::defaultRunConfig(method);
    config.model = files.model;
    config.weights.bits = 3;
    config.weights.groupSize = 16;
    config.calibration.text = files.calibrationText;
    config.calibration.samples = 6;
    config.calibration.seqLen = 32;
    config.calibration.batchSize = 4;
    config.eval.texts = {files.evalText};
    config.eval.seqLen = 32;
    return config;
}

double perplexityOfDirectory(const std::string& modelDir, const std::string& text, std::int64_t seqLen)
{
    core::EvalJobParams params;
    params.modelDir = modelDir;
    params.textPaths = {text};
    params.seqLen = seqLen;
    return core::runEvalJob(params).texts[0].perplexity;
}

} // namespace testsupport
