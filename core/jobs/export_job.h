#pragma once
// `quantscope export RUN --out DIR`: a calibrated model as a plain HF model
// directory (config.json, tokenizer files, model.safetensors with the dequantized
// weights in float32) plus quantization.json (bits, groups, scales, zero points,
// group index of every quantized Linear). Torch-free interface.

#include "store/workspace.h"
#include "util/cancel_token.h"
#include "util/progress.h"

#include <string>

namespace core {

struct ExportResult {
    std::string directory;
    std::int64_t tensors = 0;
    std::int64_t quantizedLayers = 0;
};

/// Exports finished run `runId` of `workspace` into `outDir`, which must not exist
/// or be empty (nothing a user has is overwritten). Throws core::Error when the run is
/// not finished, its artifacts are missing, or the source model changed since the run
/// (fingerprint mismatch); core::Cancelled on cancel (the partial directory is removed).
ExportResult exportRun(const Workspace& workspace, std::int64_t runId, const std::string& outDir,
                       const ProgressCallback& onProgress = {}, const CancelToken& cancel = {});

} // namespace core
