#pragma once
// OmniQuant (Shao et al., ICLR 2024; METHODS.md §3) as a block-reconstruction method:
// learnable weight clipping (LWC) of every Linear and, optionally, the learnable equivalent
// transformation (LET, LLaMA only), trained block by block with AdamW on a composite loss
// between the quantized block's outputs (quantized-stream inputs) and the FP block's outputs
// (FP stream). The result is ordinary quantized weights on the learned grids, with the LET
// scales folded into the weights and norms (the exported model is a plain HF model). The
// paper's own weight-only runs use LWC alone (METHODS.md §3.3), hence `let` defaults to off.

#include "calib/calibration_method.h"
#include "calib/equivalent_transform.h"
#include "config/run_config.h"
#include "loss/reconstruction_loss.h"
#include "quant/learnable_clipping.h"

#include <optional>

namespace core {

/// OmniQuant's options (the "omniquant" section; their schema and defaults are the method's
/// descriptor, omniquant.cpp).
struct OmniQuantConfig {
    std::int64_t epochs = 0;      ///< passes over the calibration samples per block (paper: 20; 40 at W2)
    std::int64_t batchSize = 0;   ///< samples per optimizer step (paper: 1)
    double lwcLearningRate = 0.0; ///< AdamW learning rate of the clipping logits (weight decay 0)
    bool augLoss = false;         ///< also match the FP block on the quantized stream's inputs (paper: W2)
    bool let = false;             ///< learnable equivalent transformation (LLaMA; paper's W*A16 runs: off)
    double letLearningRate = 0.0; ///< AdamW learning rate of the LET scales
    double letAlpha = 0.0;        ///< SmoothQuant exponent of the LET scale initialization
    /// LRQuant's variant of LET (calib/lrquant_method.cpp): the log-activation initialization,
    /// learnable shifts, and activation maxima from the FP model rather than the quantized stream.
    EquivalentTransformInit::Scale letInit = EquivalentTransformInit::Scale::SmoothQuant;
    bool letShifts = false;
    bool fpActivationStatistics = false;
    std::string methodName = "omniquant"; ///< the name errors and the run report

    static OmniQuantConfig from(const MethodOptions& options);
    static OmniQuantConfig defaults();
};

/// The training state of one block: the FP weights, one LearnableClipping per Linear, the
/// optional equivalent transformation, and AdamW over the clipping logits (and LET scales).
/// One step() = forward of the transformed, clipped, fake-quantized block on a batch, the
/// loss against the target(s), backward, optimizer step.
class LwcBlockTrainer {
public:
    LwcBlockTrainer(const ModelConfig& config, const BlockWeights& fpWeights, const std::string& layerPrefix,
                    const WeightQuantSpec& spec, double learningRate,
                    std::optional<EquivalentTransform> transform = std::nullopt, double transformLearningRate = 5e-3,
                    std::string methodName = "omniquant");

    /// `augTargets` may be undefined. Returns the losses before the update (the total
    /// including the aug term). Throws core::Error naming the block and step when the loss
    /// is not finite.
    LossEvaluation step(const CompositeLoss& loss, const torch::Tensor& inputs, const torch::Tensor& targets,
                        const torch::Tensor& augTargets, const AttentionContext& attention,
                        const ForwardHooks* streamHooks, std::int64_t blockIndex, std::int64_t stepIndex);

    /// The FP block with the transformation folded in (the FP block itself without LET),
    /// no gradient: the reference the quantized Linears approximate.
    BlockWeights foldedWeights() const;
    /// foldedWeights() with every Linear replaced by its fake-quantized weight.
    BlockWeights quantizedWeights() const;
    /// Stored form of one Linear on its learned grid.
    QuantizedLinear stored(const std::string& shortName) const;
    /// Stored form of every Linear, by short name (the transformation applied once for all).
    std::map<std::string, QuantizedLinear> storedLinears() const;
    /// The learned grid of one Linear (no gradient): TesseraQ starts from it.
    QuantGrid grid(const std::string& shortName) const;
    /// What the transformation divides the inputs of `shortName` by (undefined: unchanged).
    torch::Tensor inputScale(const std::string& shortName) const;
    const std::vector<std::string>& linearNames() const { return m_names; }

private:
    BlockWeights clippedBlock() const;

    const ModelConfig& m_config;
    BlockWeights m_fpWeights;
    std::string m_prefix;
    std::vector<std::string> m_names;
    std::map<std::string, LearnableClipping> m_clippings;
    std::optional<EquivalentTransform> m_transform;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    std::string m_methodName;
};

/// LWC training of one block: `epochs` passes over the calibration samples (ctx.inputs →
/// ctx.targets, plus `augTargets` when defined) in batches of `batchSize`, in order. Checks
/// cancel every step. Returns the loss of every step.
BlockLossCurve trainLwc(LwcBlockTrainer& trainer, const CompositeLoss& loss, const BlockCalibrationContext& ctx,
                        const torch::Tensor& augTargets, std::int64_t epochs, std::int64_t batchSize);

class OmniQuantMethod : public CalibrationMethod {
public:
    /// `seed` seeds the SW directions of every step (with the block and step numbers).
    OmniQuantMethod(const OmniQuantConfig& options, std::vector<LossTerm> loss, std::uint64_t seed);
    std::string name() const override { return m_options.methodName; }
    /// With fpActivationStatistics: the FP model's per-channel input maxima (one forward pass).
    void prepareModel(ModelContext& model) override;
    /// Throws core::Error naming the block and step when the loss is not finite.
    void calibrateBlock(BlockCalibrationContext& ctx) override;
    /// LET divides each Linear's input by its scales and multiplies the weight's columns.
    bool changesBlockBasis() const override { return m_options.let; }
    std::map<std::string, torch::Tensor> stateForLaterBlocks() const override { return m_fpInputAbsMax; }
    void restoreStateForLaterBlocks(std::map<std::string, torch::Tensor> state) override
    {
        m_fpInputAbsMax = std::move(state);
    }

private:
    OmniQuantConfig m_options;
    std::vector<LossTerm> m_loss;
    std::uint64_t m_seed;
    std::map<std::string, torch::Tensor> m_fpInputAbsMax; ///< by full layer name (fpActivationStatistics)
};

} // namespace core
