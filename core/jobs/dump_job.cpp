#include "jobs/dump_job.h"

#include "io/tokenizer.h"
#include "jobs/finished_run.h"
#include "jobs/run_model.h"
#include "model/decoder_model.h"
#include "model/global_tensors.h"
#include "model/weight_layout.h"
#include "quant/activation_quantizer.h"
#include "store/run_artifacts.h"
#include "store/tensor_arrays.h"
#include "util/batches.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/text_file.h"

#include <filesystem>

namespace core {
namespace {

struct LinearLocation {
    std::int64_t block = -1;
    std::string shortName;
};

LinearLocation locateLinear(const ModelConfig& config, const std::string& layer)
{
    for (std::int64_t b = 0; b < config.numLayers; ++b) {
        const std::string prefix = blockPrefix(config, b);
        if (layer.rfind(prefix, 0) != 0)
            continue;
        const std::string shortName = layer.substr(prefix.size());
        for (const auto& name : linearShortNames(config.family))
            if (name == shortName)
                return {b, shortName};
    }
    throw Error("dump: '" + layer + "' is not a Linear layer of the model (e.g. " + blockPrefix(config, 0) +
                linearShortNames(config.family).back() + ")");
}

// Runs every batch of `stream` through the block; returns the outputs, and the inputs
// of `layer` in `captured` when asked.
torch::Tensor runBlock(const ModelConfig& config, const BlockWeights& weights, const torch::Tensor& stream,
                       const AttentionContext& attention, const std::string& prefix, std::int64_t batchSize,
                       const CancelToken& cancel, const std::string& layer, std::vector<torch::Tensor>* captured,
                       const ForwardHooks& streamHooks)
{
    const ForwardHooks observer =
        streamHooks.with(observing([&](const std::string& name, const torch::Tensor& input, const torch::Tensor&) {
            if (captured && name == layer)
                captured->push_back(input.reshape({-1, input.size(-1)}).clone());
        }));
    std::vector<torch::Tensor> outputs;
    forEachBatch(stream.size(0), batchSize, cancel, [&](std::int64_t first, std::int64_t count) {
        outputs.push_back(decoderBlock(config, weights, stream.narrow(0, first, count), attention, prefix, &observer));
    });
    return torch::cat(outputs, 0);
}

} // namespace

DumpResult dumpLayerInputs(const Workspace& workspace, std::int64_t runId, const std::string& layer,
                           const std::string& outPath, const ProgressCallback& onProgress, const CancelToken& cancel)
{
    torch::NoGradGuard noGrad;
    // Never over a file the user has: a dump is minutes of work to redo, theirs may be more.
    if (std::filesystem::exists(outPath))
        throw Error("dump: " + outPath + " already exists (remove it or choose another --out)");
    const RunConfig config = loadFinishedRun(workspace, runId, "dump").config;
    const ArtifactFile artifacts(workspace.artifactPath(runId), ArtifactMode::ReadOnly);
    const CalibrationRecord record = readCalibrationRecord(artifacts);
    if (fileFingerprint(record.textPath) != record.textFingerprint)
        throw Error("dump: the calibration text " + record.textPath + " changed since run " + std::to_string(runId));

    DecoderModel model(config.model);
    const ModelConfig& modelConfig = model.config();
    // A method's replaced globals (embedding, norm, head) fed both streams, as in the pipeline.
    model.replaceGlobals(withStoredGlobals(modelConfig, model.globals(), readFoldedTensors(artifacts)));
    const ForwardHooks streamHooks = streamQuantizationHooks(config.activations, config.kv);
    const LinearLocation location = locateLinear(modelConfig, layer);
    reportProgress(onProgress, {"dump", 0.0, "rebuilding the calibration windows"});
    const auto tokens =
        encodeWithBos(*loadTokenizer(config.model), readTextFile(record.textPath), modelConfig.bosTokenId);
    torch::Tensor ids = torch::empty({static_cast<std::int64_t>(record.offsets.size()), record.seqLen}, torch::kInt64);
    for (std::size_t s = 0; s < record.offsets.size(); ++s) {
        if (record.offsets[s] + record.seqLen > static_cast<std::int64_t>(tokens.size()))
            throw Error("dump: stored offset " + std::to_string(record.offsets[s]) + " is beyond the calibration text");
        ids[static_cast<std::int64_t>(s)].copy_(torch::tensor(std::vector<std::int64_t>(
            tokens.begin() + record.offsets[s], tokens.begin() + record.offsets[s] + record.seqLen)));
    }

    // Both streams up to the layer's block, as the pipeline ran them.
    const AttentionContext attention(modelConfig, record.seqLen, model.device());
    torch::Tensor fpStream = model.embed(ids);
    torch::Tensor quantizedStream = fpStream.clone();
    std::vector<torch::Tensor> fpInputs, quantizedInputs;
    const std::int64_t batch = config.calibration.batchSize;
    for (std::int64_t b = 0; b <= location.block; ++b) {
        const std::string prefix = blockPrefix(modelConfig, b);
        const bool target = b == location.block;
        reportProgress(onProgress, {"dump", static_cast<double>(b) / static_cast<double>(location.block + 1),
                                    "block " + std::to_string(b + 1) + "/" + std::to_string(location.block + 1)});
        fpStream = runBlock(modelConfig, model.block(b), fpStream, attention, prefix, batch, cancel, layer,
                            target ? &fpInputs : nullptr, {});
        quantizedStream = runBlock(modelConfig, storedQuantizedBlock(model, artifacts, b), quantizedStream, attention,
                                   prefix, batch, cancel, layer, target ? &quantizedInputs : nullptr, streamHooks);
    }

    const torch::Tensor fp = torch::cat(fpInputs, 0);
    const torch::Tensor quantized = torch::cat(quantizedInputs, 0);
    // Written under a temporary name and renamed: an error or a kill leaves no half-written file.
    const std::string partial = outPath + ".partial";
    try {
        ArtifactFile out(partial, ArtifactMode::Create);
        out.write("/fp", toFloatArray(fp));
        out.write("/quantized", toFloatArray(quantized));
        Int64Array offsets{{static_cast<std::int64_t>(record.offsets.size())}, record.offsets};
        out.write("/offsets", offsets);
        out.setAttribute("/fp", "run_id", runId);
        out.setAttribute("/fp", "layer", layer);
        out.setAttribute("/fp", "seq_len", record.seqLen);
        out.flush();
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(partial, ignored);
        throw;
    }
    std::filesystem::rename(partial, outPath);
    reportProgress(onProgress, {"dump", 1.0, "wrote " + outPath});
    return {outPath, fp.size(0), fp.size(1)};
}

} // namespace core
