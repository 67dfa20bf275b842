#include "jobs/adapt_job.h"

#include "calib/block_pipeline.h"
#include "calib/omniquant.h"
#include "eval/perplexity.h"
#include "io/tokenizer.h"
#include "jobs/block_metric_rows.h"
#include "jobs/finished_run.h"
#include "jobs/recorded_run.h"
#include "jobs/run_model.h"
#include "model/weight_layout.h"
#include "quant/activation_quantizer.h"
#include "quant/storage_bits.h"
#include "store/loss_curve_artifacts.h"
#include "store/run_artifacts.h"
#include "util/batches.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/stopwatch.h"
#include "util/text_file.h"

#include <filesystem>

namespace core {
namespace {

namespace fs = std::filesystem;

std::string datasetName(const std::string& path)
{
    return fs::path(path).stem().string();
}

// The run's activation/KV fake-quant everywhere but in block `prefix`: TTA.py switches the
// adapted block's activation quantization off and never back on (reference parity only).
ForwardHooks hooksOutsideBlock(const ForwardHooks& hooks, const std::string& prefix)
{
    ForwardHooks outside;
    outside.observers = hooks.observers;
    for (const auto& transform : hooks.linearInputs)
        outside.linearInputs.push_back([transform, prefix](const std::string& layer, const torch::Tensor& x) {
            return layer.rfind(prefix, 0) == 0 ? x : transform(layer, x);
        });
    for (const auto& transform : hooks.keyValues)
        outside.keyValues.push_back(
            [transform, prefix](const std::string& block, const torch::Tensor& k, const torch::Tensor& v) {
                return block == prefix ? std::make_pair(k, v) : transform(block, k, v);
            });
    return outside;
}

// `stream` through blocks [first, last) of `model`, batch by batch, in place.
torch::Tensor throughBlocks(const DecoderModel& model, torch::Tensor stream, std::int64_t first, std::int64_t last,
                            const AttentionContext& attention, const ForwardHooks* hooks, std::int64_t batchSize,
                            const CancelToken& cancel)
{
    torch::NoGradGuard noGrad;
    for (std::int64_t b = first; b < last; ++b)
        forEachBatch(stream.size(0), batchSize, cancel, [&](std::int64_t start, std::int64_t count) {
            stream.narrow(0, start, count).copy_(model.runBlock(b, stream.narrow(0, start, count), attention, hooks));
        });
    return stream;
}

// What the parent stored, except what belongs to the block being replaced and the diagnostics
// (they would describe the parent's last block: a TTA run records none).
void copyStoredModel(const ArtifactFile& from, ArtifactFile& to, const ModelConfig& config,
                     const std::string& replacedPrefix)
{
    writeCalibrationRecord(to, readCalibrationRecord(from));
    for (const auto& layer : quantizedLayerNames(from))
        if (layer.rfind(replacedPrefix, 0) != 0)
            writeQuantizedLinear(to, layer, readQuantizedLinear(from, layer));
    for (const auto& [name, tensor] : readFoldedTensors(from))
        if (name.rfind(replacedPrefix, 0) != 0)
            writeFoldedTensor(to, name, tensor);
    for (std::int64_t b = 0; b < config.numLayers; ++b) {
        const std::string prefix = blockPrefix(config, b);
        const std::string name = prefix.substr(0, prefix.size() - 1);
        if (prefix != replacedPrefix)
            if (const auto curve = readLossCurve(from, name))
                writeLossCurve(to, name, *curve);
    }
}

bool hasLetMachinery(const RunConfig& config)
{
    return config.method == "lrquant" || (config.method == "omniquant" && config.options.boolean("let"));
}

class AdaptRun {
public:
    AdaptRun(Workspace& workspace, const RunConfig& config, std::int64_t runId, std::int64_t parentId,
             const ProgressCallback& onProgress, const CancelToken& cancel)
        : m_workspace(workspace), m_config(config), m_runId(runId), m_parentId(parentId), m_onProgress(onProgress),
          m_cancel(cancel)
    {
    }

    void execute(const std::vector<std::int64_t>& tokens, AdaptJobResult& result)
    {
        const AdaptationConfig& adaptation = *m_config.adaptation;
        const ArtifactFile parentArtifacts(m_workspace.artifactPath(m_parentId), ArtifactMode::ReadOnly);
        ArtifactFile artifacts(m_workspace.artifactPath(m_runId), ArtifactMode::Create);
        DecoderModel fpModel(m_config.model);
        DecoderModel model(m_config.model);
        loadStoredModel(model, parentArtifacts);
        const ModelConfig& modelConfig = fpModel.config();
        const std::int64_t last = modelConfig.numLayers - 1;
        const std::string prefix = blockPrefix(modelConfig, last);
        copyStoredModel(parentArtifacts, artifacts, modelConfig, prefix);

        const ForwardHooks streamHooks = streamQuantizationHooks(m_config.activations, m_config.kv);
        const ForwardHooks evalHooks =
            adaptation.quantizedActivations ? streamHooks : hooksOutsideBlock(streamHooks, prefix);
        PerplexityOptions options;
        options.seqLen = m_config.eval.seqLen;
        options.maxWindows = adaptation.maxWindows;
        options.hooks = streamHooks;
        result.parentPerplexity = perplexity(model, tokens, options, "parent run", 0.0, 0.1).perplexity;
        options.hooks = {};
        result.fpPerplexity = fpPerplexity(fpModel, tokens, options);

        // The last block's inputs: both streams through the blocks before it (or the embedding
        // outputs, as TTA.py's loop leaves them), and the FP block's outputs on the FP stream. TTA
        // trains on exactly the windows it is scored on, as the authors' code does.
        const torch::Tensor ids = evaluationWindows(tokens, options.seqLen, adaptation.maxWindows);
        const AttentionContext attention(modelConfig, options.seqLen, fpModel.device());
        const std::int64_t batch = m_config.calibration.batchSize;
        const std::int64_t through = adaptation.inputs == "embedding" ? 0 : last;
        report("adapt", 0.1, "streams to block " + std::to_string(last));
        torch::Tensor fpInputs, quantizedInputs, targets;
        {
            torch::NoGradGuard noGrad;
            fpInputs = throughBlocks(fpModel, fpModel.embed(ids), 0, through, attention, nullptr, batch, m_cancel);
            quantizedInputs =
                throughBlocks(model, model.embed(ids), 0, through, attention, &streamHooks, batch, m_cancel);
            targets = throughBlocks(fpModel, fpInputs.clone(), last, last + 1, attention, nullptr, batch, m_cancel);
        }

        // Re-quantize the last block from its FP weights: TTA.py's fresh LET (s = 1, δ = 0,
        // s_qk = 1) and LWC (logits 4), AdamW, the run's loss (LRQuant: MSE + NLC).
        OmniQuantConfig training;
        training.epochs = adaptation.epochs;
        training.batchSize = 1;
        training.lwcLearningRate = adaptation.lwcLearningRate;
        training.let = true;
        training.letLearningRate = adaptation.letLearningRate;
        training.letInit = EquivalentTransformInit::Scale::Ones;
        training.letShifts = m_config.method == "lrquant" && m_config.options.boolean("shifts");
        training.methodName = "tta";
        OmniQuantMethod method(training, m_config.loss, m_config.calibration.seed);
        BlockWeights weights = fpModel.block(last);
        std::vector<LayerMetrics> layers;
        std::map<std::string, QuantizedLinear> stored;
        std::map<std::string, torch::Tensor> hessians;
        BlockLossCurve curve;
        const ForwardHooks* trainingHooks =
            adaptation.quantizedActivations && !streamHooks.empty() ? &streamHooks : nullptr;
        const WeightQuantSpec spec{.bits = m_config.weights.bits,
                                   .groupSize = m_config.weights.groupSize,
                                   .symmetric = m_config.weights.symmetric};
        BlockCalibrationContext ctx{
            .config = modelConfig,
            .blockIndex = last,
            .layerPrefix = prefix,
            .weights = weights,
            .inputs = quantizedInputs,
            .targets = targets,
            .attention = attention,
            .spec = spec,
            .cancel = m_cancel,
            .batchSize = batch,
            .onStep =
                [this](const std::string& step, double fraction, const std::vector<std::pair<std::string, double>>& v) {
                    report("adapt", 0.15 + 0.7 * fraction, step, v);
                },
            .layers = layers,
            .stored = stored,
            .hessians = hessians,
            .globals = &fpModel.globals(),
            .lossCurve = &curve,
            .streamHooks = trainingHooks,
        };
        method.calibrateBlock(ctx);
        record(artifacts, ctx, fpModel.block(last), curve);
        model.replaceBlock(last, ctx.weights);

        options.hooks = evalHooks;
        const PerplexityResult adapted = perplexity(model, tokens, options, "adapted", 0.85, 0.15);
        result.perplexity = adapted.perplexity;
        result.windows = adapted.windows;
        result.seqLen = adapted.seqLen;
        m_workspace.catalog().addDatasetMetrics(m_runId,
                                                {{result.dataset, "perplexity", adapted.perplexity},
                                                 {result.dataset, "fp_perplexity", result.fpPerplexity},
                                                 {result.dataset, "parent_perplexity", result.parentPerplexity},
                                                 {result.dataset, "mean_nll", adapted.meanNll},
                                                 {result.dataset, "tokens", static_cast<double>(adapted.tokens)},
                                                 {result.dataset, "windows", static_cast<double>(adapted.windows)},
                                                 {result.dataset, "seq_len", static_cast<double>(adapted.seqLen)}});
    }

private:
    // The adapted block's stored Linears, folded tensors and loss curve; the parent's metrics of
    // every other block and of the whole run, with this block's own.
    void record(ArtifactFile& artifacts, const BlockCalibrationContext& ctx, const BlockWeights& fpBlock,
                const BlockLossCurve& curve)
    {
        for (const auto& [layer, linear] : ctx.stored)
            writeQuantizedLinear(artifacts, layer, linear);
        for (const auto& [name, tensor] : foldedTensors(fpBlock, ctx.weights, ctx.stored, ctx.layerPrefix))
            writeFoldedTensor(artifacts, name, tensor);
        const std::string blockName = ctx.layerPrefix.substr(0, ctx.layerPrefix.size() - 1);
        writeLossCurve(artifacts, blockName, curve);
        artifacts.flush();

        Catalog& catalog = m_workspace.catalog();
        std::vector<LayerMetric> rows;
        for (const LayerMetric& metric : catalog.layerMetrics(m_parentId))
            if (metric.block != ctx.blockIndex)
                rows.push_back(metric);
        std::vector<LayerMetrics> layers = ctx.layers;
        for (LayerMetrics& layer : layers) // the pipeline sets these; this block did not go through it
            layer.effectiveBits = effectiveBitsPerWeight(ctx.stored.at(layer.name));
        for (LayerMetric& row : blockMetricRows(layers, blockName, ctx.blockIndex, curve))
            rows.push_back(std::move(row));
        catalog.addLayerMetrics(m_runId, rows);
        // The bits of the adapted block's Linears are the parent's (same grid and shapes).
        catalog.addRunMetrics(m_runId, catalog.runMetrics(m_parentId));
    }

    double fpPerplexity(const DecoderModel& fpModel, const std::vector<std::int64_t>& tokens,
                        const PerplexityOptions& options)
    {
        const std::string& text = m_config.adaptation->text;
        const FpBaselineKey key{m_workspace.catalog().run(m_runId).modelFingerprint, fileFingerprint(text),
                                options.seqLen, options.maxWindows};
        if (const auto cached = m_workspace.catalog().findFpBaseline(key))
            return cached->perplexity;
        const PerplexityResult fp = perplexity(fpModel, tokens, options, "full precision", 0.1, 0.0);
        m_workspace.catalog().storeFpBaseline(key, {fp.perplexity, static_cast<std::int64_t>(tokens.size())});
        return fp.perplexity;
    }

    PerplexityResult perplexity(const DecoderModel& model, const std::vector<std::int64_t>& tokens,
                                const PerplexityOptions& options, const std::string& label, double done, double share)
    {
        return evaluatePerplexity(
            model, tokens, options,
            [&](const ProgressEvent& event) {
                report("eval", done + event.fraction * share, label + ": " + event.message);
            },
            m_cancel);
    }

    void report(const std::string& stage, double fraction, const std::string& message,
                const std::vector<std::pair<std::string, double>>& values = {})
    {
        reportProgress(m_onProgress, {stage, fraction, message, values});
    }

    Workspace& m_workspace;
    const RunConfig& m_config;
    std::int64_t m_runId, m_parentId;
    const ProgressCallback& m_onProgress;
    const CancelToken& m_cancel;
};

} // namespace

AdaptJobResult runAdaptJob(Workspace& workspace, const AdaptJobParams& params, const ProgressCallback& onProgress,
                           const CancelToken& cancel, const std::function<void(std::int64_t)>& onRunCreated)
{
    const Stopwatch stopwatch;
    reportProgress(onProgress, {"load", 0.0, "checking the parent run and the text"});
    const FinishedRun parent = loadFinishedRun(workspace, params.parentRunId, "adapt");
    const std::string parentLabel = "adapt: run " + std::to_string(params.parentRunId);
    if (parent.record.kind == RunKind::TestTimeAdapted)
        throw Error(parentLabel + " is a test-time adaptation already; adapt its parent, run " +
                    std::to_string(parent.record.parentRunId));
    if (!hasLetMachinery(parent.config))
        throw Error(parentLabel + " is " + parent.config.method +
                    "; test-time adaptation re-quantizes the last block with LRQuant's smoothing and clipping, so "
                    "it adapts lrquant runs (and omniquant runs with LET)");
    RunConfig config = parent.config;
    AdaptationConfig adaptation = params.adaptation;
    if (adaptation.text.empty())
        throw Error("adapt: --text is required (the evaluation text to adapt to)");
    adaptation.text = fs::absolute(adaptation.text).lexically_normal().string();
    if (!fs::is_regular_file(adaptation.text))
        throw Error("adapt: text " + adaptation.text + ": no such file");
    config.adaptation = adaptation;
    config.diagnostics.enabled = false; // see copyStoredModel
    config.name = params.name.empty() ? parent.record.name + " TTA " + datasetName(adaptation.text) : params.name;
    validateRunConfig(config, "adapt");
    const auto tokens = encodeWithBos(*loadTokenizer(config.model), readTextFile(adaptation.text),
                                      loadModelConfig(config.model).bosTokenId);
    if (static_cast<std::int64_t>(tokens.size()) < config.eval.seqLen)
        throw Error("adapt: text " + adaptation.text + " has " + std::to_string(tokens.size()) +
                    " tokens, fewer than one window of " + std::to_string(config.eval.seqLen));

    AdaptJobResult result;
    result.parentRunId = params.parentRunId;
    result.name = config.name;
    result.dataset = datasetName(adaptation.text);
    const std::string configJson = runConfigToJson(config);
    Catalog& catalog = workspace.catalog();
    result.runId = catalog.createRun({config.name, config.method, configJson, config.model,
                                      parent.record.modelFingerprint, params.parentRunId, RunKind::TestTimeAdapted});
    if (onRunCreated)
        onRunCreated(result.runId);
    result.seconds = executeRecordedRun(workspace, result.runId, configJson, stopwatch, [&] {
        AdaptRun run(workspace, config, result.runId, params.parentRunId, onProgress, cancel);
        run.execute(tokens, result);
    });
    reportProgress(onProgress, {"eval", 1.0, "run " + std::to_string(result.runId) + " finished"});
    return result;
}

} // namespace core
