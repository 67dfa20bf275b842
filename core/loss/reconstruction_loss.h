#pragma once
// Block-reconstruction losses (METHODS.md §2, §7.4, §9.2) and their weighted sum.
// `prediction` is the quantized block's output on the quantized stream, `target` the FP
// block's output on the FP stream ([..., hidden]); the target is a constant (no gradient
// flows into it). Every function is differentiable in `prediction`.

#include "loss/loss_term.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace core {

torch::Tensor mseLoss(const torch::Tensor& prediction, const torch::Tensor& target);
torch::Tensor l2Loss(const torch::Tensor& prediction, const torch::Tensor& target);

/// (1/K) Σ_k (1/N) Σ_i |sort(P u_k)_i − sort(T u_k)_i|^p over the N tokens (rows of the
/// flattened [N, hidden] tensors) and the K rows of `directions` [K, hidden]. Projection
/// and sort in float32, as the paper's code does. Gradients reach `prediction` through the
/// sort's permutation.
torch::Tensor slicedWassersteinLoss(const torch::Tensor& prediction, const torch::Tensor& target,
                                    const torch::Tensor& directions, int p = 1);

/// −log |mean over tokens of cos(pred_t, target_t)| (LRQuant, METHODS.md §9.2).
torch::Tensor nlcLoss(const torch::Tensor& prediction, const torch::Tensor& target);

/// OSTQuant's KL-Top (METHODS.md §7.4): I = the top-k target logits of each token,
/// L = mean_tokens Σ_{v∈I} p_v (log p_v − log q_v) with p = softmax(target) and
/// log q = log_softmax(prediction) over the full vocabulary (not renormalized on I).
torch::Tensor klTopLoss(const torch::Tensor& predictionLogits, const torch::Tensor& targetLogits, std::int64_t k);

/// The value of one evaluation: the weighted sum to minimize and each term's own
/// (unweighted) value, in the order of the terms.
struct LossEvaluation {
    torch::Tensor total;
    std::vector<double> terms;
};

/// A weighted sum of loss terms. SW directions are redrawn on every call, as in the paper,
/// but from a generator seeded with (seed, block, step), so a run is reproducible.
class CompositeLoss {
public:
    /// Throws core::Error for an empty list, a negative weight or an out-of-range option.
    CompositeLoss(std::vector<LossTerm> terms, std::uint64_t seed);

    /// Maps block outputs [..., hidden] to logits (final norm + output head): kl_top
    /// compares the two outputs through it. Required before evaluate() when a term is kl_top.
    void setLogitHead(std::function<torch::Tensor(const torch::Tensor&)> head) { m_logitHead = std::move(head); }

    LossEvaluation evaluate(const torch::Tensor& prediction, const torch::Tensor& target, std::int64_t block,
                            std::int64_t step) const;

    const std::vector<LossTerm>& terms() const { return m_terms; }
    /// One name per term ("mse", "sw", ...; repeated types get "#2", "#3").
    std::vector<std::string> termNames() const;
    bool needsLogits() const;

private:
    std::vector<LossTerm> m_terms;
    std::uint64_t m_seed;
    std::function<torch::Tensor(const torch::Tensor&)> m_logitHead;
};

/// Seed of the SW directions of one step: a mix of the three numbers (splitmix64), so
/// neighbouring blocks and steps get unrelated directions.
std::uint64_t stepSeed(std::uint64_t seed, std::int64_t block, std::int64_t step);

} // namespace core
