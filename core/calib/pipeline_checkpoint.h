#pragma once
// Resume after a crash, a kill or Slurm's wall-time signal (issue 20 §4): the block pipeline's
// state after prepareModel and after every finished block, in a directory of the run
// (runs/<id>/resume/). What a resumed pipeline needs to go on exactly as the interrupted one
// would have:
// - the working model: every block finished so far (its dequantized float32 tensors, each
//   written once, when it finishes) and whatever prepareModel transformed (blocks, globals);
// - both activation streams after the last finished block (the FP targets' inputs and the
//   quantized stream), so nothing is recomputed;
// - the method's state for later blocks (CalibrationMethod::stateForLaterBlocks);
// - the per-Linear metrics of the finished blocks.
// Random draws need nothing: every one is seeded from (seed, block, step).
//
// Writes are ordered so that a process killed at any point leaves a usable checkpoint: the
// files of block i are complete (written under a temporary name, then renamed) before
// checkpoint.json, the commit record, names them. The identity of the run (its content hash
// and the model's fingerprint) is in checkpoint.json; the job refuses a checkpoint of another.

#include "calib/layer_metrics.h"
#include "model/decoder_model.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core {

/// What a checkpoint belongs to: a change of any of these makes it unusable.
struct CheckpointIdentity {
    std::string contentHash;      ///< config/run_identity.h: runContentHash of the run's config
    std::string configJson;       ///< the canonical config, to name what changed
    std::string modelFingerprint; ///< util/fingerprint.h
    std::string calibrationTextFingerprint;
};

/// The pipeline state a checkpoint restores.
struct PipelineResumePoint {
    std::int64_t blocksDone = 0;   ///< blocks [0, blocksDone) are calibrated
    torch::Tensor fpStream;        ///< the FP stream after block blocksDone−1 (undefined when 0 blocks are done)
    torch::Tensor quantizedStream; ///< likewise the quantized stream
    std::map<std::string, torch::Tensor> methodState;
    std::vector<LayerMetrics> layers; ///< of blocks [0, blocksDone)
};

class PipelineCheckpoint {
public:
    /// A checkpoint in `directory` (created on the first write) for the run `identity` names.
    PipelineCheckpoint(std::string directory, CheckpointIdentity identity);

    const std::string& directory() const { return m_directory; }

    /// Whether checkpoint.json exists (a pipeline got past prepareModel).
    bool exists() const;
    /// Throws core::Error naming what differs (config keys, model, calibration text) when the
    /// stored checkpoint belongs to another config or model; does nothing when there is none.
    void requireSameRun() const;
    /// Blocks finished in the stored checkpoint (0: none or no checkpoint).
    std::int64_t blocksDone() const;

    /// After prepareModel: the blocks it transformed and the globals when it replaced them
    /// (whole), with the method's state. Commits a checkpoint with no finished block.
    void savePrepared(const DecoderModel& model, const std::set<std::int64_t>& transformedBlocks, bool globalsReplaced,
                      const std::map<std::string, torch::Tensor>& methodState);
    /// After block `index` (now in `model`): its tensors, both streams, the method's state and
    /// every finished block's metrics. Commits blocksDone = index + 1.
    void saveBlock(const DecoderModel& model, std::int64_t index, const torch::Tensor& fpStream,
                   const torch::Tensor& quantizedStream, const std::map<std::string, torch::Tensor>& methodState,
                   const std::vector<LayerMetrics>& layers);

    /// Puts the stored blocks and prepared tensors into `model` and returns the rest. Throws
    /// core::Error naming the file when a part is missing or unreadable, and like
    /// requireSameRun when it belongs to another run.
    PipelineResumePoint restore(DecoderModel& model);

    /// Deletes the directory (a finished run needs no checkpoint).
    void remove() const;

private:
    std::string path(const std::string& name) const;
    void commit(std::int64_t blocksDone, const std::vector<LayerMetrics>& layers, const std::string& stateFile) const;

    std::string m_directory;
    CheckpointIdentity m_identity;
    /// The method state of the last commit: each tensor and the file holding it.
    std::map<std::string, std::pair<torch::Tensor, std::string>> m_savedState;
};

} // namespace core
