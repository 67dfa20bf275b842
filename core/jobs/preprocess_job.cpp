#include "jobs/preprocess_job.h"

#include "calib/lora.h"
#include "eval/perplexity.h"
#include "io/checkpoint.h"
#include "io/tensor_io.h"
#include "io/tokenizer.h"
#include "jobs/export_job.h"
#include "jobs/finished_run.h"
#include "model/weight_layout.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace core {
namespace {

namespace fs = std::filesystem;

nlohmann::json settingsJson(const PreprocessJobParams& params, const std::string& textFingerprint)
{
    const LoraConfig& l = params.lora;
    return {{"parent_run_id", params.parentRunId},
            {"rank", l.rank},
            {"alpha", l.alpha},
            {"dropout", l.dropout},
            {"targets", l.targets},
            {"steps", l.steps},
            {"gradient_accumulation", l.gradientAccumulation},
            {"lr", l.learningRate},
            {"warmup_fraction", l.warmupFraction},
            {"max_grad_norm", l.maxGradNorm},
            {"seed", l.seed},
            {"text", params.text},
            {"text_fingerprint", textFingerprint},
            {"seq_len", params.seqLen}};
}

// The checkpoint name of Linear weight `fullName` ("model.layers.0.mlp.up_proj.weight"), which
// some checkpoints store without the "model." prefix.
std::string checkpointName(const Checkpoint& checkpoint, const std::string& fullName)
{
    if (checkpoint.contains(fullName))
        return fullName;
    if (fullName.rfind("model.", 0) == 0 && checkpoint.contains(fullName.substr(6)))
        return fullName.substr(6);
    throw Error("preprocess: the exported model has no tensor " + fullName + " (internal error)");
}

// Q(W) of the parent run as a model directory, LoRA-trained and merged, written to `directory`.
std::vector<double> makeMergedModel(const Workspace& workspace, const PreprocessJobParams& params,
                                    const std::vector<std::int64_t>& tokens, const std::string& directory,
                                    const ProgressCallback& onProgress, const CancelToken& cancel)
{
    const std::string staging = directory + ".partial";
    fs::remove_all(staging);
    reportProgress(onProgress, {"preprocess", 0.0, "exporting run " + std::to_string(params.parentRunId)});
    exportRun(workspace, params.parentRunId, staging, {}, cancel);
    DecoderModel model(staging);
    LoraAdapters adapters(model, params.lora);
    // Non-overlapping windows of the text, as perplexity cuts it (the authors train on whole
    // documents cut at 2048 tokens; a text file is one document here).
    const torch::Tensor windows = evaluationWindows(tokens, params.seqLen, 0);
    const std::vector<double> losses = trainLora(
        model, adapters, windows, params.lora,
        [&](std::int64_t step, std::int64_t total, double loss) {
            char message[96];
            std::snprintf(message, sizeof message, "LoRA step %lld/%lld, loss %.4f", static_cast<long long>(step + 1),
                          static_cast<long long>(total), loss);
            reportProgress(onProgress, {"preprocess",
                                        0.95 * static_cast<double>(step + 1) / static_cast<double>(total),
                                        message,
                                        {{"step", static_cast<double>(step + 1)}, {"ce", loss}}});
        },
        cancel);
    mergeLora(model, adapters);

    // The exported checkpoint with every adapted Linear's weight replaced by the merged one.
    const Checkpoint checkpoint(staging);
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& name : checkpoint.names())
        tensors[name] = loadFloat(checkpoint, name);
    for (std::int64_t b = 0; b < model.config().numLayers; ++b)
        for (const auto& target : params.lora.targets)
            tensors[checkpointName(checkpoint, blockPrefix(model.config(), b) + target + ".weight")] =
                model.block(b).at(target + ".weight");
    writeSafetensors((fs::path(staging) / "model.safetensors").string(), tensors, StorageType::F32,
                     {{"format", "pt"}, {"quantscope_preprocessed_run", std::to_string(params.parentRunId)}});
    fs::remove(fs::path(staging) / "quantization.json"); // describes Q(W), not the merged weights
    fs::rename(staging, directory);                      // the merged model exists only once complete
    return losses;
}

} // namespace

PreprocessJobResult runPreprocessJob(Workspace& workspace, const PreprocessJobParams& input,
                                     const ProgressCallback& onProgress, const CancelToken& cancel,
                                     const std::function<void(std::int64_t)>& onRunCreated)
{
    reportProgress(onProgress, {"load", 0.0, "checking the parent run and the text"});
    const FinishedRun parent = loadFinishedRun(workspace, input.parentRunId, "preprocess");
    if (parent.record.kind == RunKind::TestTimeAdapted)
        throw Error("preprocess: run " + std::to_string(input.parentRunId) +
                    " is a test-time adaptation; preprocess a calibration run");
    PreprocessJobParams params = input;
    const LoraConfig& l = params.lora;
    if (l.steps < 1 || l.gradientAccumulation < 1 || !(l.learningRate > 0) || !(l.alpha > 0) ||
        !(l.dropout >= 0 && l.dropout < 1) || !(l.warmupFraction >= 0 && l.warmupFraction < 1) ||
        !(l.maxGradNorm > 0) || l.targets.empty())
        throw Error("preprocess: LoRA options out of range (steps and gradient accumulation >= 1, lr, alpha and "
                    "max grad norm > 0, dropout and warmup in [0, 1), at least one target)");
    params.text =
        fs::absolute(params.text.empty() ? parent.config.calibration.text : params.text).lexically_normal().string();
    if (!fs::is_regular_file(params.text))
        throw Error("preprocess: text " + params.text + ": no such file");
    if (params.seqLen == 0)
        params.seqLen = parent.config.calibration.seqLen;
    const auto tokens = encodeWithBos(*loadTokenizer(parent.config.model), readTextFile(params.text),
                                      loadModelConfig(parent.config.model).bosTokenId);
    if (params.seqLen < 2 || static_cast<std::int64_t>(tokens.size()) < params.seqLen)
        throw Error("preprocess: text " + params.text + " has " + std::to_string(tokens.size()) +
                    " tokens, fewer than one window of " + std::to_string(params.seqLen));

    // One merged model per parent, settings and text: a second job with the same ones reuses it.
    const nlohmann::json settings = settingsJson(params, fileFingerprint(params.text));
    Fingerprint key;
    key.add(settings.dump());
    const std::string directory = (fs::path(workspace.directory()) / "preprocessed" /
                                   ("run" + std::to_string(params.parentRunId) + "-" + key.hex()))
                                      .string();
    PreprocessJobResult result;
    result.mergedModel = directory;
    result.reusedMergedModel = fs::is_directory(directory);
    if (!result.reusedMergedModel) {
        fs::create_directories(fs::path(directory).parent_path());
        result.losses = makeMergedModel(workspace, params, tokens, directory, onProgress, cancel);
        nlohmann::json record = settings;
        record["losses"] = result.losses;
        writeFileAtomically((fs::path(directory) / "preprocessing.json").string(), record.dump(2) + "\n");
    }

    RunConfig config = parent.config;
    config.model = directory;
    config.name = params.name.empty() ? parent.record.name + " preprocessed" : params.name;
    result.second = runCalibrationJob(workspace, config, onProgress, cancel, onRunCreated,
                                      RunLineage{params.parentRunId, RunKind::Preprocessed});
    return result;
}

} // namespace core
