#pragma once
// `quantscope preprocess RUN_ID` and the workbench's "Preprocess and Re-quantize…": PTQ1.61's
// quantization preprocessing (Zhao et al., ACL 2025; METHODS.md §8.4, the authors'
// qat/finetune_lora.py). From a finished run: its fake-quantized model Q(W) gets LoRA adapters
// trained with next-token cross-entropy on a text (calib/lora.h), merged into it (W' = Q(W) +
// (α/r) B A), saved as a model directory in the workspace, and the run's config calibrated again
// on that merged model (activation statistics, hence PTQ1.61's masks, recomputed: the README
// path of the authors' code). The second run is of kind "preprocessed" with the first as parent.
// Resumable by stage: a merged model already made with the same settings and text is reused.
// Torch-free interface.

#include "calib/lora_config.h"
#include "jobs/calibrate_job.h"

namespace core {

struct PreprocessJobParams {
    std::int64_t parentRunId = 0;
    LoraConfig lora;
    std::string text;        ///< LoRA training text; "" = the parent run's calibration text
    std::int64_t seqLen = 0; ///< tokens per training window; 0 = the parent's calibration seq_len
    std::string name;        ///< the second run's name; "" = "<parent name> preprocessed"
};

struct PreprocessJobResult {
    std::string mergedModel;        ///< the merged model's directory
    bool reusedMergedModel = false; ///< an earlier job's merged model was reused (no training)
    std::vector<double> losses;     ///< per optimizer step (empty when reused)
    CalibrationJobResult second;    ///< the second PTQ run
};

/// Runs on the calling thread. Throws core::Error before anything is recorded for an unknown or
/// unfinished parent, a test-time-adapted parent, a bad LoRA option or a text shorter than one
/// window; the second run's failures as runCalibrationJob's. Progress stages "preprocess", then
/// the calibration's.
PreprocessJobResult runPreprocessJob(Workspace& workspace, const PreprocessJobParams& params,
                                     const ProgressCallback& onProgress = {}, const CancelToken& cancel = {},
                                     const std::function<void(std::int64_t runId)>& onRunCreated = {});

} // namespace core
