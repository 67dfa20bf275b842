#pragma once
// PTQ1.61's block-wise scaling-factor optimization (Zhao et al., ACL 2025; METHODS.md §8.1): every
// Linear of a block is split by its structured mask (quant/structured_mask.h) into a 4-bit part,
// fixed round-to-nearest, and a binarized part whose per-row scale α and rank-1 rescaling r1 r2ᵀ
// are trained with AdamW (α: 5e-4, r1 and r2: 1e-3, weight decay 0, a fresh optimizer per block)
// on the block's loss against the FP block on FP inputs and, as the authors' code does, against
// the FP block on the quantized stream's inputs. μ, the mask, the signs and the 4-bit part are
// frozen; the signs get no gradient (sign has no straight-through estimator in their code).

#include "calib/calibration_method.h"
#include "loss/reconstruction_loss.h"
#include "quant/structured_mask.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace core {

class StructuredMaskBlockTrainer {
public:
    /// `salient`: the mask of every Linear of the block, by short name ("mlp.up_proj").
    StructuredMaskBlockTrainer(const ModelConfig& config, const BlockWeights& fpWeights, const std::string& layerPrefix,
                               const std::map<std::string, torch::Tensor>& salient, int salientBits,
                               double scaleLearningRate, double rankLearningRate);

    /// One AdamW step on a batch (`augTargets` may be undefined); returns the losses before the
    /// update, the total last. Throws core::Error naming the block and step for a non-finite loss.
    LossEvaluation step(const CompositeLoss& loss, const torch::Tensor& inputs, const torch::Tensor& targets,
                        const torch::Tensor& augTargets, const AttentionContext& attention,
                        const ForwardHooks* streamHooks, std::int64_t blockIndex, std::int64_t stepIndex);

    /// The block with every Linear replaced by its current quantized weight (with gradients).
    BlockWeights quantizedBlock() const;
    /// Stored form of one Linear with the current parameters.
    QuantizedLinear stored(const std::string& shortName) const;
    const std::vector<std::string>& linearNames() const { return m_names; }

private:
    struct MaskedLinear {
        torch::Tensor weight;        ///< FP weight
        torch::Tensor salient;       ///< bool [cols]
        torch::Tensor salientPart;   ///< RTN of the whole weight at the salient bits (used on salient columns)
        torch::Tensor signs;         ///< sign(W − μ), {−1, 0, 1}
        BinaryStatistics statistics; ///< μ frozen, α learnable
        torch::Tensor rowScale;      ///< r1, learnable, init 1
        torch::Tensor columnScale;   ///< r2, learnable, init 1
    };
    torch::Tensor quantizedWeight(const MaskedLinear& linear) const;

    const ModelConfig& m_config;
    BlockWeights m_fpWeights;
    std::string m_prefix;
    int m_salientBits;
    std::vector<std::string> m_names;
    std::map<std::string, MaskedLinear> m_linears;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
};

} // namespace core
