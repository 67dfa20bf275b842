#pragma once
// What a method's model-level stages see (issue 15 §2): the working copy of the model, the
// calibration windows and a way to run any range of its blocks forward, with or without
// gradients and with hooks. Before the block loop (prepareModel) every block is full
// precision; while block i is calibrated blocks 0..i−1 are quantized and i+1.. are FP; after
// the loop (finishModel) every block is quantized. So a method can backpropagate the model's
// output loss to block i through the quantized blocks before it and the FP blocks after it.

#include "loss/loss_curve.h"
#include "model/decoder_model.h"
#include "quant/weight_quantizer.h"
#include "store/artifact_file.h"
#include "store/catalog.h"
#include "util/cancel_token.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace core {

struct QuantizedLinear;

class ModelContext {
public:
    /// Called when a model-level stage replaced the global weights (changed tensors by name,
    /// model/global_tensors.h) or a block (its index, weights and the stored Linears): the
    /// pipeline writes them to the run, so eval, diagnostics and export read what the method made.
    struct Sink {
        std::function<void(const std::map<std::string, torch::Tensor>&)> globalsReplaced;
        std::function<void(std::int64_t, const BlockWeights&, const std::map<std::string, QuantizedLinear>&)>
            blockReplaced;
        /// A prepareModel stage transformed FP block `index` (rotations, fused norms): its
        /// non-Linear tensors are the run's from now on; its Linears are stored once quantized.
        std::function<void(std::int64_t, const BlockWeights&)> blockTransformed;
        /// A model-level stage's training curve under `name` ("model"), and scalar metrics of the
        /// stage (QSUR before the transforms, the largest orthogonality error) by layer name.
        std::function<void(const std::string&, const BlockLossCurve&)> lossCurveRecorded;
        std::function<void(const std::vector<LayerMetric>&)> metricsRecorded;
        /// The run's artifacts, for a model-level stage's own diagnostics (null: not recorded).
        ArtifactFile* artifacts = nullptr;
    };

    ModelContext(DecoderModel& model, const torch::Tensor& calibrationIds, const WeightQuantSpec& spec,
                 const ForwardHooks& streamHooks, std::int64_t batchSize, const CancelToken& cancel, Sink sink);

    const ModelConfig& config() const { return m_model.config(); }
    /// The working model: read its blocks and globals here; replace them through this context.
    const DecoderModel& model() const { return m_model; }
    const torch::Tensor& calibrationIds() const { return m_ids; } ///< [samples, T] int64
    const AttentionContext& attention() const { return m_attention; }
    const WeightQuantSpec& spec() const { return m_spec; }
    /// The run's activation/KV fake-quant (empty hooks when weight-only).
    const ForwardHooks& streamHooks() const { return m_streamHooks; }
    std::int64_t batchSize() const { return m_batchSize; }
    const CancelToken& cancel() const { return m_cancel; }

    /// hidden [B, T, H] through blocks [first, last) of the working model with `hooks` (may be
    /// null). With `withGradients` autograd records the forward (the pipeline itself runs
    /// without); checks cancel before every block.
    torch::Tensor runBlocks(std::int64_t first, std::int64_t last, const torch::Tensor& hidden,
                            const ForwardHooks* hooks, bool withGradients) const;
    /// Mean next-token cross-entropy of the model's logits on hidden states [B, T, H] that
    /// stand for the windows `ids` [B, T] (the last position predicts nothing).
    torch::Tensor outputCrossEntropy(const torch::Tensor& hidden, const torch::Tensor& ids) const;

    /// Replaces the embedding, final norm or head of the working model (and of the run).
    void replaceGlobals(GlobalWeights weights);
    /// Replaces block `index` of the working model (and of the run) by `weights`, whose Linears
    /// are `stored` (full layer names): a finishModel stage that adapts calibrated blocks.
    void replaceBlock(std::int64_t index, BlockWeights weights, const std::map<std::string, QuantizedLinear>& stored);
    /// Replaces FP block `index` before the block loop (a prepareModel stage's equivalent
    /// transform): the loop then quantizes these weights, and the run records the block's
    /// other tensors (norms, online rotations) as folded.
    void transformBlock(std::int64_t index, BlockWeights weights);
    /// Replaces block `index` of the working model only, writing nothing to the run: for a
    /// finishModel change that what the run stores already implies (OSTQuant folds the online
    /// down_proj rotation of a weight-only model, as export does), so evaluation runs the
    /// model that export writes.
    void replaceWorkingBlock(std::int64_t index, BlockWeights weights)
    {
        m_model.replaceBlock(index, std::move(weights));
    }
    /// Hands a model-level stage's loss curve and metrics to the run (Sink).
    void recordLossCurve(const std::string& name, const BlockLossCurve& curve) const;
    void recordMetrics(const std::vector<LayerMetric>& metrics) const;
    ArtifactFile* artifacts() const { return m_sink.artifacts; }

    /// The blocks replaced through this context so far (transformBlock, replaceBlock) and
    /// whether the globals were: what a checkpoint after prepareModel must hold.
    const std::set<std::int64_t>& transformedBlocks() const { return m_transformedBlocks; }
    bool globalsReplaced() const { return m_globalsReplaced; }

    /// Sub-step report of a model-level stage: name, fraction, named values (live plots).
    std::function<void(const std::string& step, double fraction,
                       const std::vector<std::pair<std::string, double>>& values)>
        onStep;

private:
    DecoderModel& m_model;
    const torch::Tensor& m_ids;
    AttentionContext m_attention;
    const WeightQuantSpec& m_spec;
    const ForwardHooks& m_streamHooks;
    std::int64_t m_batchSize;
    const CancelToken& m_cancel;
    Sink m_sink;
    std::set<std::int64_t> m_transformedBlocks;
    bool m_globalsReplaced = false;
};

} // namespace core
