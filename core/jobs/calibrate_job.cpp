#include "jobs/calibrate_job.h"

#include "calib/block_pipeline.h"
#include "calib/calibration_data.h"
#include "calib/pipeline_checkpoint.h"
#include "config/run_identity.h"
#include "diagnostics/diagnostics_recorder.h"
#include "eval/perplexity.h"
#include "io/tokenizer.h"
#include "jobs/block_metric_rows.h"
#include "jobs/recorded_run.h"
#include "jobs/resources.h"
#include "jobs/zero_shot_eval.h"
#include "model/weight_layout.h"
#include "quant/activation_quantizer.h"
#include "store/loss_curve_artifacts.h"
#include "store/run_artifacts.h"
#include "store/run_lock.h"
#include "util/error.h"
#include "util/fingerprint.h"
#include "util/stopwatch.h"
#include "util/text_file.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

namespace core {
namespace {

namespace fs = std::filesystem;

// Shares of the overall progress bar: the FP baselines (before calibration replaces the
// working model's blocks), calibration, then the quantized model's evaluation.
constexpr double kFpEvalShare = 0.25;
constexpr double kCalibrateShare = 0.5;

std::string absolutePath(const std::string& path)
{
    return fs::absolute(path).lexically_normal().string();
}

std::int64_t contextLength(const ModelConfig& config)
{
    return std::min<std::int64_t>(config.maxPositions, 2048);
}

std::string datasetName(const std::string& path)
{
    return fs::path(path).stem().string();
}

void checkSequenceLength(std::int64_t seqLen, const ModelConfig& config, const std::string& key)
{
    if (seqLen > config.maxPositions)
        throw Error("config: " + key + " " + std::to_string(seqLen) + " exceeds the model's context of " +
                    std::to_string(config.maxPositions) + " tokens");
}

// "1, 2, 4, 43, 86, 172": the group sizes up to 1024 that divide `width`.
std::string dividingGroupSizes(std::int64_t width)
{
    std::string sizes;
    for (std::int64_t g = 1; g <= std::min<std::int64_t>(width, 1024); ++g)
        if (width % g == 0)
            sizes += (sizes.empty() ? "" : ", ") + std::to_string(g);
    return sizes;
}

// Every Linear of the model must be divisible into the configured groups: a short last group
// (which the GPTQ reference allows) is refused rather than supported, since the stored grid,
// LWC and TesseraQ all assume equal groups (README, "Run config").
void checkGroupSize(const RunConfig& config, const ModelConfig& model)
{
    if (config.kv.groupSize > 0 && model.headDim % config.kv.groupSize != 0)
        throw Error("config: kv.group_size " + std::to_string(config.kv.groupSize) +
                    " does not divide the head dimension " + std::to_string(model.headDim));
    const auto linears = linearShortNames(model.family);
    for (const auto& spec : blockTensorSpecs(model)) {
        const std::string shortName = spec.name.substr(0, spec.name.size() - std::string(".weight").size());
        if (spec.name.ends_with(".weight") && std::find(linears.begin(), linears.end(), shortName) != linears.end() &&
            config.weights.groupSize > 0 && spec.shape.at(1) % config.weights.groupSize != 0)
            throw Error("config: weights.group_size " + std::to_string(config.weights.groupSize) +
                        " does not divide the " + std::to_string(spec.shape.at(1)) + " input channels of " +
                        blockPrefix(model, 0) + shortName + " and every other block's (group sizes that do: " +
                        dividingGroupSizes(spec.shape.at(1)) + "; or -1, one group per output channel)");
    }
}

WeightQuantSpec weightSpec(const RunConfig& config)
{
    WeightQuantSpec spec;
    spec.bits = config.weights.bits;
    spec.groupSize = config.weights.groupSize;
    spec.symmetric = config.weights.symmetric;
    return spec;
}

std::string checkpointDirectoryOf(const Workspace& workspace, std::int64_t runId)
{
    return (fs::path(workspace.runDirectory(runId)) / "resume").string();
}

// What a run's checkpoint must match: its config's content, its model and calibration text.
CheckpointIdentity checkpointIdentity(const RunConfig& config, const std::string& configJson,
                                      const std::string& modelFingerprintText)
{
    return {runContentHash(configJson), configJson, modelFingerprintText, fileFingerprint(config.calibration.text)};
}

// Runs the job's stages on a created run; everything it writes goes to the run. A resumed run
// keeps its artifacts file (the finished blocks are in it; the rest is written over).
class CalibrationRun {
public:
    CalibrationRun(Workspace& workspace, const RunConfig& config, std::int64_t runId,
                   const ProgressCallback& onProgress, const CancelToken& cancel, std::vector<ZeroShotTask> tasks,
                   PipelineCheckpoint& checkpoint)
        : m_workspace(workspace), m_config(config), m_runId(runId), m_onProgress(onProgress), m_cancel(cancel),
          m_model(config.model), m_artifacts(workspace.artifactPath(runId),
                                             checkpoint.exists() ? ArtifactMode::ReadWrite : ArtifactMode::Create),
          m_tasks(std::move(tasks)), m_checkpoint(checkpoint)
    {
    }

    void execute(CalibrationJobResult& result)
    {
        const auto tokenizer = loadTokenizer(m_config.model);
        evaluateFullPrecision(*tokenizer, result);
        scoreFullPrecisionTasks();
        calibrate(*tokenizer, result);
        evaluateQuantized(result);
        scoreTasksOfRun(result);
    }

private:
    void calibrate(const Tokenizer& tokenizer, CalibrationJobResult& result)
    {
        const Stopwatch stopwatch;
        reportProgress(m_onProgress, {"load", 0.0, "tokenizing " + m_config.calibration.text});
        const std::string text = readTextFile(m_config.calibration.text);
        const auto ids = encodeWithBos(tokenizer, text, m_model.config().bosTokenId);
        const CalibrationWindows windows = drawCalibrationWindows(
            ids, m_config.calibration.samples, m_config.calibration.seqLen, m_config.calibration.seed);
        writeCalibrationRecord(m_artifacts, {windows.offsets, m_config.calibration.seqLen, m_config.calibration.seed,
                                             m_config.calibration.text, fileFingerprint(m_config.calibration.text)});
        m_artifacts.flush();
        result.calibrationOffsets = windows.offsets;

        const auto method = createCalibrationMethod(m_config);
        PipelineOptions options;
        options.spec = weightSpec(m_config);
        options.batchSize = m_config.calibration.batchSize;
        options.streamHooks = m_streamHooks;
        options.onBlockFinished = [&](const BlockOutcome& block) { recordBlock(block); };
        options.onModelChanged.globalsReplaced = [&](const std::map<std::string, torch::Tensor>& tensors) {
            for (const auto& [name, tensor] : tensors)
                writeFoldedTensor(m_artifacts, name, tensor);
            m_artifacts.flush();
        };
        options.onModelChanged.blockReplaced = [&](std::int64_t index, const BlockWeights& weights,
                                                   const std::map<std::string, QuantizedLinear>& stored) {
            recordReplacedBlock(index, weights, stored);
        };
        options.onModelChanged.blockTransformed = [&](std::int64_t index, const BlockWeights& weights) {
            recordTransformedBlock(index, weights);
        };
        options.onModelChanged.lossCurveRecorded = [&](const std::string& name, const BlockLossCurve& curve) {
            writeLossCurve(m_artifacts, name, curve);
            m_artifacts.flush();
        };
        options.onModelChanged.metricsRecorded = [&](const std::vector<LayerMetric>& rows) {
            m_workspace.catalog().addLayerMetrics(m_runId, rows);
        };
        if (m_config.diagnostics.enabled)
            options.onModelChanged.artifacts = &m_artifacts;
        options.checkpoint = &m_checkpoint;
        if (m_checkpoint.exists())
            reportProgress(m_onProgress, {"calibrate", kFpEvalShare,
                                          "resuming after block " + std::to_string(m_checkpoint.blocksDone()) + "/" +
                                              std::to_string(m_model.config().numLayers)});
        std::optional<DiagnosticsRecorder> diagnostics;
        if (m_config.diagnostics.enabled) {
            diagnostics.emplace(m_config.diagnostics, m_model.config(), m_artifacts);
            options.diagnostics = &*diagnostics;
        }
        const auto progress = [&](const ProgressEvent& event) {
            reportProgress(m_onProgress,
                           {event.stage, kFpEvalShare + event.fraction * kCalibrateShare, event.message, event.values});
        };
        // The model's blocks become the calibrated ones as the pipeline goes (streaming).
        PipelineResult pipeline = runBlockPipeline(m_model, windows.ids, *method, options, progress, m_cancel);
        result.layers = pipeline.layers;
        result.effectiveBits = modelEffectiveBits(result.layers);
        if (!std::isnan(result.effectiveBits))
            m_workspace.catalog().addRunMetrics(m_runId, {{"effective_bits", result.effectiveBits}});
        result.calibrationSeconds = stopwatch.seconds();
    }

    // Written as each block finishes, so a cancelled or failed run keeps them.
    void recordBlock(const BlockOutcome& block)
    {
        const std::string prefix = blockPrefix(m_model.config(), block.blockIndex);
        const std::string name = prefix.substr(0, prefix.size() - 1); // "model.layers.3"
        std::vector<LayerMetric> rows = block.diagnostics;
        for (LayerMetric& row : blockMetricRows(block.layers, name, block.blockIndex, block.lossCurve))
            rows.push_back(std::move(row));
        for (const auto& [layer, stored] : block.stored)
            writeQuantizedLinear(m_artifacts, layer, stored);
        for (const auto& [tensorName, tensor] : block.folded)
            writeFoldedTensor(m_artifacts, tensorName, tensor);
        if (!block.lossCurve.empty())
            writeLossCurve(m_artifacts, name, block.lossCurve);
        m_artifacts.flush();
        m_workspace.catalog().addLayerMetrics(m_runId, rows);
    }

    // A block a model-level stage replaced after the loop: its Linears and every other tensor.
    void recordReplacedBlock(std::int64_t index, const BlockWeights& weights,
                             const std::map<std::string, QuantizedLinear>& stored)
    {
        const std::string prefix = blockPrefix(m_model.config(), index);
        for (const auto& [layer, linear] : stored)
            writeQuantizedLinear(m_artifacts, layer, linear);
        for (const auto& [name, tensor] : weights.tensors)
            if (!isStoredLinearWeight(prefix, name, stored))
                writeFoldedTensor(m_artifacts, prefix + name, tensor);
        m_artifacts.flush();
    }

    // A block a prepareModel stage transformed (fused norms, online rotations): every tensor but
    // its Linears, which the block loop stores once quantized.
    void recordTransformedBlock(std::int64_t index, const BlockWeights& weights)
    {
        const std::string prefix = blockPrefix(m_model.config(), index);
        const auto linears = linearShortNames(m_model.config().family);
        for (const auto& [name, tensor] : weights.tensors) {
            const bool linear = std::any_of(linears.begin(), linears.end(),
                                            [&](const std::string& l) { return name == l + ".weight"; });
            if (!linear)
                writeFoldedTensor(m_artifacts, prefix + name, tensor);
        }
        m_artifacts.flush();
    }

    PerplexityOptions evalOptions() const
    {
        PerplexityOptions options;
        options.seqLen = m_config.eval.seqLen;
        options.maxWindows = m_config.eval.maxWindows;
        return options;
    }

    // Before calibration: the working model is still the checkpoint's.
    void evaluateFullPrecision(const Tokenizer& tokenizer, CalibrationJobResult& result)
    {
        const std::string modelFingerprint = m_workspace.catalog().run(m_runId).modelFingerprint;
        const double share = kFpEvalShare / static_cast<double>(m_config.eval.texts.size());
        double done = 0.0;
        const PerplexityOptions options = evalOptions();
        for (const auto& path : m_config.eval.texts) {
            DatasetOutcome outcome;
            outcome.dataset = datasetName(path);
            outcome.textPath = path;
            m_evalTokens.push_back(encodeWithBos(tokenizer, readTextFile(path), m_model.config().bosTokenId));
            const auto& tokenized = m_evalTokens.back();
            const FpBaselineKey key{modelFingerprint, fileFingerprint(path), options.seqLen, options.maxWindows};
            if (const auto cached = m_workspace.catalog().findFpBaseline(key)) {
                outcome.fpPerplexity = cached->perplexity;
                outcome.fpFromCache = true;
            } else {
                outcome.fpPerplexity =
                    perplexityOf(tokenized, options, outcome.dataset + " (full precision)", done, share).perplexity;
                m_workspace.catalog().storeFpBaseline(
                    key, {outcome.fpPerplexity, static_cast<std::int64_t>(tokenized.size())});
            }
            done += share;
            result.datasets.push_back(outcome);
        }
    }

    // After calibration: the working model is the calibrated one; its forward carries the
    // run's activation/KV fake-quant.
    // The quantized model's evaluation share of the progress bar: its perplexities, then its tasks.
    double perplexityShare() const
    {
        const double rest = 1.0 - kFpEvalShare - kCalibrateShare;
        return m_config.eval.tasks.empty() ? rest : rest * 0.5;
    }

    // The FP model's task scores, the reference the compare view shows beside the run's. Not
    // cached, unlike FP perplexities: a task is a few seconds on the models a laptop runs.
    void scoreFullPrecisionTasks()
    {
        if (m_tasks.empty())
            return;
        ZeroShotOptions options;
        options.bos = parseBosPolicy(m_config.eval.bos);
        const auto progress = [&](const ProgressEvent& event) {
            reportProgress(m_onProgress, {"eval", kFpEvalShare, "full precision " + event.message});
        };
        m_fpTasks = scoreTasks(m_model, m_tasks, options, progress, m_cancel);
    }

    void scoreTasksOfRun(CalibrationJobResult& result)
    {
        if (m_tasks.empty())
            return;
        const double done = kFpEvalShare + kCalibrateShare + perplexityShare();
        const double share = 1.0 - done;
        const auto progress = [&](const ProgressEvent& event) {
            reportProgress(m_onProgress, {"eval", done + event.fraction * share, event.message});
        };
        result.tasks = scoreTasks(m_model, m_tasks, zeroShotOptionsOf(m_config), progress, m_cancel);
        std::vector<TaskMetricRecord> rows = taskMetricRecords(result.tasks);
        for (TaskMetricRecord& row : taskMetricRecords(m_fpTasks)) {
            row.metric = kFullPrecisionPrefix + row.metric;
            rows.push_back(std::move(row));
        }
        m_workspace.catalog().addTaskMetrics(m_runId, rows);
    }

    void evaluateQuantized(CalibrationJobResult& result)
    {
        const std::size_t texts = m_config.eval.texts.size();
        const double share = perplexityShare() / static_cast<double>(texts);
        double done = kFpEvalShare + kCalibrateShare;
        PerplexityOptions options = evalOptions();
        options.hooks = m_streamHooks;
        for (std::size_t t = 0; t < texts; ++t) {
            DatasetOutcome& outcome = result.datasets[t];
            const PerplexityResult ppl = perplexityOf(m_evalTokens[t], options, outcome.dataset, done, share);
            done += share;
            outcome.perplexity = ppl.perplexity;
            outcome.tokens = ppl.tokens;
            outcome.windows = ppl.windows;
            outcome.seqLen = ppl.seqLen;
            m_workspace.catalog().addDatasetMetrics(m_runId,
                                                    {{outcome.dataset, "perplexity", outcome.perplexity},
                                                     {outcome.dataset, "fp_perplexity", outcome.fpPerplexity},
                                                     {outcome.dataset, "mean_nll", ppl.meanNll},
                                                     {outcome.dataset, "tokens", static_cast<double>(ppl.tokens)},
                                                     {outcome.dataset, "windows", static_cast<double>(ppl.windows)},
                                                     {outcome.dataset, "seq_len", static_cast<double>(ppl.seqLen)}});
        }
    }

    PerplexityResult perplexityOf(const std::vector<std::int64_t>& ids, const PerplexityOptions& options,
                                  const std::string& label, double done, double share)
    {
        const auto progress = [&](const ProgressEvent& event) {
            reportProgress(m_onProgress, {"eval", done + event.fraction * share, label + ": " + event.message});
        };
        try {
            return evaluatePerplexity(m_model, ids, options, progress, m_cancel);
        } catch (const Error& e) {
            throw Error("eval text " + label + ": " + e.what());
        }
    }

    Workspace& m_workspace;
    const RunConfig& m_config;
    std::int64_t m_runId;
    const ProgressCallback& m_onProgress;
    const CancelToken& m_cancel;
    DecoderModel m_model; ///< the working model: FP until the pipeline replaces each block
    ArtifactFile m_artifacts;
    ForwardHooks m_streamHooks = streamQuantizationHooks(m_config.activations, m_config.kv);
    std::vector<std::vector<std::int64_t>> m_evalTokens; ///< each eval text, tokenized once
    std::vector<ZeroShotTask> m_tasks;                   ///< eval.tasks, read before the run was created
    std::vector<TaskScore> m_fpTasks;                    ///< their scores on the FP model
    PipelineCheckpoint& m_checkpoint;
};

// Everything a user can fix up front, checked before a run is created or resumed: the model
// and tokenizer load, the texts exist, the task files parse (the run scores these).
std::vector<ZeroShotTask> checkRunInputs(const RunConfig& config)
{
    const DecoderModel model{config.model};
    const auto tokenizer = loadTokenizer(config.model);
    // Tokenized here once more so that a text too short for one window fails now, not after
    // every block is calibrated (a cached full-precision perplexity would skip the early eval).
    const auto tokenCount = [&](const std::string& path) {
        return static_cast<std::int64_t>(
            encodeWithBos(*tokenizer, readTextFile(path), model.config().bosTokenId).size());
    };
    for (const auto& path : config.eval.texts) {
        if (!fs::is_regular_file(path))
            throw Error("eval text " + path + ": no such file");
        if (const std::int64_t tokens = tokenCount(path); tokens < config.eval.seqLen)
            throw Error("eval text " + path + ": " + std::to_string(tokens) + " tokens, fewer than one window of " +
                        "eval.seq_len " + std::to_string(config.eval.seqLen));
    }
    if (!fs::is_regular_file(config.calibration.text))
        throw Error("calibration text " + config.calibration.text + ": no such file");
    if (const std::int64_t tokens = tokenCount(config.calibration.text); tokens < config.calibration.seqLen + 1)
        throw Error("calibration text " + config.calibration.text + ": " + std::to_string(tokens) +
                    " tokens, fewer than one window of calibration.seq_len " +
                    std::to_string(config.calibration.seqLen) + " + 1");
    return loadTasks(config.eval.tasks);
}

// Calibrates run `runId` (created, or being resumed) to the end and records it.
CalibrationJobResult executeCalibration(Workspace& workspace, const RunConfig& config, CalibrationJobResult result,
                                        std::vector<ZeroShotTask> tasks, PipelineCheckpoint& checkpoint,
                                        const Stopwatch& stopwatch, const ProgressCallback& onProgress,
                                        const CancelToken& cancel)
{
    result.seconds = executeRecordedRun(workspace, result.runId, result.configJson, stopwatch, [&] {
        CalibrationRun run(workspace, config, result.runId, onProgress, cancel, std::move(tasks), checkpoint);
        run.execute(result);
    });
    // Only once the run is marked finished: a kill before that leaves a run that can resume.
    checkpoint.remove();
    reportProgress(onProgress, {"eval", 1.0, "run " + std::to_string(result.runId) + " finished"});
    return result;
}

} // namespace

RunConfig resolveRunConfig(const RunConfig& input)
{
    validateRunConfig(input);
    if (input.adaptation)
        throw Error("config: 'adaptation' belongs to test-time-adapted runs, which `quantscope adapt RUN_ID --text "
                    "FILE` makes from a finished run; remove it to calibrate");
    RunConfig config = input;
    config.model = absolutePath(config.model.empty() ? defaultModelDirectory() : config.model);
    const ModelConfig model = loadModelConfig(config.model);
    config.calibration.text =
        absolutePath(config.calibration.text.empty() ? defaultCalibrationText() : config.calibration.text);
    if (config.eval.texts.empty())
        config.eval.texts = defaultEvalTexts();
    if (config.eval.texts.empty())
        throw Error("config: eval.texts is empty and no bundled test text was found in " + resourceDirectory());
    for (auto& text : config.eval.texts)
        text = absolutePath(text);
    for (std::size_t i = 0; i < config.eval.texts.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (datasetName(config.eval.texts[i]) == datasetName(config.eval.texts[j]))
                throw Error("config: eval.texts has two texts named '" + datasetName(config.eval.texts[i]) +
                            "' (results are stored by file name)");
    if (config.calibration.seqLen == 0)
        config.calibration.seqLen = contextLength(model);
    if (config.eval.seqLen == 0)
        config.eval.seqLen = contextLength(model);
    checkSequenceLength(config.calibration.seqLen, model, "calibration.seq_len");
    checkSequenceLength(config.eval.seqLen, model, "eval.seq_len");
    checkGroupSize(config, model);
    config.eval.tasks = resolveTaskFiles(config.eval.tasks);
    parseBosPolicy(config.eval.bos);
    if (config.name.empty())
        config.name = runDisplayName(config);
    return config;
}

CalibrationJobResult runCalibrationJob(Workspace& workspace, const RunConfig& input, const ProgressCallback& onProgress,
                                       const CancelToken& cancel, const std::function<void(std::int64_t)>& onRunCreated,
                                       const RunLineage& lineage)
{
    const Stopwatch stopwatch;
    reportProgress(onProgress, {"load", 0.0, "checking config, model and texts"});
    const RunConfig config = resolveRunConfig(input);
    std::vector<ZeroShotTask> tasks = checkRunInputs(config);

    CalibrationJobResult result;
    result.name = config.name;
    result.configJson = runConfigToJson(config);
    const std::string fingerprint = modelFingerprint(config.model);
    result.runId = workspace.catalog().createRun(
        {config.name, config.method, result.configJson, config.model, fingerprint, lineage.parentRunId, lineage.kind});
    if (onRunCreated)
        onRunCreated(result.runId);
    PipelineCheckpoint checkpoint(checkpointDirectoryOf(workspace, result.runId),
                                  checkpointIdentity(config, result.configJson, fingerprint));
    checkpoint.remove(); // a new run of a reused id (the newest run was deleted) starts afresh
    return executeCalibration(workspace, config, std::move(result), std::move(tasks), checkpoint, stopwatch, onProgress,
                              cancel);
}

CalibrationJobResult resumeCalibrationJob(Workspace& workspace, std::int64_t runId, const ProgressCallback& onProgress,
                                          const CancelToken& cancel)
{
    const Stopwatch stopwatch;
    reportProgress(onProgress, {"load", 0.0, "checking run " + std::to_string(runId) + " and its checkpoint"});
    const RunRecord run = workspace.catalog().run(runId);
    const std::string what = "run " + std::to_string(runId);
    if (run.status == RunStatus::Finished)
        throw Error(what + " is finished: nothing to resume");
    if (runLockHeld(workspace.runDirectory(runId)))
        throw Error(what + " is running (a process holds the lock on " + workspace.runDirectory(runId) + ")");
    if (run.kind == RunKind::TestTimeAdapted)
        throw Error(what + " is a test-time adaptation: `quantscope adapt` makes it again; only calibrations resume");
    const RunConfig config = resolveRunConfig(parseRunConfig(run.configJson, what + "'s config"));
    const std::string configJson = runConfigToJson(config);
    if (configJson != run.configJson) {
        std::string changes;
        for (const std::string& change : changedConfigKeys(run.configJson, configJson))
            changes += (changes.empty() ? "" : "; ") + change;
        throw Error(what + ": its config resolves differently now (" + changes + "); refusing to resume");
    }
    std::vector<ZeroShotTask> tasks = checkRunInputs(config);
    const std::string fingerprint = modelFingerprint(config.model);
    if (fingerprint != run.modelFingerprint)
        throw Error(what + ": the model " + config.model + " changed since the run started (fingerprint " +
                    run.modelFingerprint + ", now " + fingerprint + "); refusing to resume");
    PipelineCheckpoint checkpoint(checkpointDirectoryOf(workspace, runId),
                                  checkpointIdentity(config, configJson, fingerprint));
    checkpoint.requireSameRun();
    // The finished blocks' codes are only in the artifacts file: without it a resume would
    // finish a run that lacks them.
    if (checkpoint.exists() && !fs::is_regular_file(workspace.artifactPath(runId)))
        throw Error(what + ": " + workspace.artifactPath(runId) + " is missing, so the codes of the " +
                    std::to_string(checkpoint.blocksDone()) +
                    " checkpointed blocks are lost; refusing to resume (calibrate the config again)");

    CalibrationJobResult result;
    result.runId = runId;
    result.name = run.name;
    result.configJson = configJson;
    return executeCalibration(workspace, config, std::move(result), std::move(tasks), checkpoint, stopwatch, onProgress,
                              cancel);
}

std::int64_t checkpointedBlocks(const Workspace& workspace, std::int64_t runId)
{
    const PipelineCheckpoint checkpoint(checkpointDirectoryOf(workspace, runId), {});
    return checkpoint.blocksDone();
}

} // namespace core
