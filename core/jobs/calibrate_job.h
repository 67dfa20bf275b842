#pragma once
// `quantscope calibrate` and the GUI's "New calibration": the job shape of
// ARCHITECTURE.md for one run config, recorded in a workspace. Torch-free interface.

#include "calib/layer_metrics.h"
#include "config/run_config.h"
#include "eval/task_score.h"
#include "store/workspace.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace core {

/// Perplexity of the calibrated model and of the full-precision model on one eval text.
struct DatasetOutcome {
    std::string dataset; ///< the text's file name without extension, e.g. "brown_test"
    std::string textPath;
    double perplexity = 0.0;
    double fpPerplexity = 0.0;
    bool fpFromCache = false; ///< FP value reused from an earlier run on the same model and text
    std::int64_t tokens = 0;
    std::int64_t windows = 0;
    std::int64_t seqLen = 0;
};

struct CalibrationJobResult {
    std::int64_t runId = 0;
    std::string name;
    std::string configJson; ///< canonical, with every default resolved (what the catalog stores)
    std::vector<std::int64_t> calibrationOffsets;
    std::vector<LayerMetrics> layers;
    /// Bits per weight of every stored Linear together (quant/storage_bits.h); NaN: none stored.
    double effectiveBits = std::numeric_limits<double>::quiet_NaN();
    std::vector<DatasetOutcome> datasets;
    std::vector<TaskScore> tasks; ///< eval.tasks on the calibrated model, in order
    double calibrationSeconds = 0.0;
    double seconds = 0.0;
};

/// Resolves what a config leaves to defaults (bundled model and texts, sequence
/// lengths from the model's context) into explicit values, so that the stored
/// config reproduces the run on its own. Throws core::Error for a model that does
/// not load or a config that does not fit the model (e.g. group size vs widths).
RunConfig resolveRunConfig(const RunConfig& config);

/// What a run derives from: PTQ1.61's second round records the first (kind Preprocessed).
struct RunLineage {
    std::int64_t parentRunId = 0; ///< 0: a plain calibration
    RunKind kind = RunKind::Ptq;
};

/// Calibrates, evaluates and records one run in `workspace`, on the calling thread.
/// Problems found before any work (bad config, unusable model or text) throw
/// core::Error and record nothing. Once the run exists (reported through
/// `onRunCreated`), a failure marks it failed and throws core::Error("run N failed: ..."),
/// and a cancel marks it cancelled and throws core::Cancelled; layers and blocks
/// finished before that stay recorded. Progress stages: "load", "calibrate", "eval".
CalibrationJobResult runCalibrationJob(Workspace& workspace, const RunConfig& config,
                                       const ProgressCallback& onProgress = {}, const CancelToken& cancel = {},
                                       const std::function<void(std::int64_t runId)>& onRunCreated = {},
                                       const RunLineage& lineage = {});

/// Continues run `runId` of `workspace` from its checkpoint (runs/<id>/resume/, written after
/// prepareModel and after every block; calib/pipeline_checkpoint.h) in the same run: the
/// finished blocks are not calibrated again and the results are those of an uninterrupted run,
/// bit for bit. Without a checkpoint (the run stopped before calibration) it starts the run's
/// work over. Throws core::Error, changing nothing, when the run is finished, still running
/// (its job lock is held), not a calibration, or when its config, model or calibration text
/// changed since (naming what changed); then fails or cancels like runCalibrationJob.
CalibrationJobResult resumeCalibrationJob(Workspace& workspace, std::int64_t runId,
                                          const ProgressCallback& onProgress = {}, const CancelToken& cancel = {});

/// Blocks a resume of run `runId` would skip (0: none or no checkpoint).
std::int64_t checkpointedBlocks(const Workspace& workspace, std::int64_t runId);

} // namespace core
