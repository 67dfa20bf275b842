#include "loss/reconstruction_loss.h"

#include "metrics/sliced_wasserstein.h"
#include "util/error.h"

#include <cmath>

namespace core {
namespace {

void requireSameShape(const torch::Tensor& prediction, const torch::Tensor& target, const char* loss)
{
    if (prediction.sizes() != target.sizes())
        throw Error(std::string(loss) + " loss: prediction " + c10::str(prediction.sizes()) + " and target " +
                    c10::str(target.sizes()) + " differ in shape");
    if (prediction.dim() < 1 || prediction.numel() == 0)
        throw Error(std::string(loss) + " loss: empty input");
}

// Float32 as the reference code computes these losses; float64 stays float64 (tests).
torch::ScalarType lossType(const torch::Tensor& values)
{
    return values.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

// [..., hidden] → [tokens, hidden]
torch::Tensor tokens(const torch::Tensor& values)
{
    return values.reshape({-1, values.size(-1)});
}

std::uint64_t splitmix64(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

} // namespace

torch::Tensor mseLoss(const torch::Tensor& prediction, const torch::Tensor& target)
{
    requireSameShape(prediction, target, "mse");
    return (prediction - target.detach()).pow(2).mean();
}

torch::Tensor l2Loss(const torch::Tensor& prediction, const torch::Tensor& target)
{
    requireSameShape(prediction, target, "l2");
    return tokens(prediction - target.detach()).pow(2).sum(1).mean();
}

torch::Tensor slicedWassersteinLoss(const torch::Tensor& prediction, const torch::Tensor& target,
                                    const torch::Tensor& directions, int p)
{
    requireSameShape(prediction, target, "sw");
    if (p != 1 && p != 2)
        throw Error("sw loss: p must be 1 or 2 (got " + std::to_string(p) + ")");
    if (directions.dim() != 2 || directions.size(1) != prediction.size(-1))
        throw Error("sw loss: directions " + c10::str(directions.sizes()) + " do not match hidden size " +
                    std::to_string(prediction.size(-1)));
    const torch::ScalarType type = lossType(prediction);
    const torch::Tensor u = directions.to(prediction.device(), type).t();
    const torch::Tensor predicted = std::get<0>(torch::sort(torch::mm(tokens(prediction).to(type), u), 0));
    const torch::Tensor expected = std::get<0>(torch::sort(torch::mm(tokens(target.detach()).to(type), u), 0));
    const torch::Tensor difference = predicted - expected;
    // The mean over [N, K] is (1/K) Σ_k (1/N) Σ_i: every direction has the same N tokens.
    return p == 1 ? difference.abs().mean() : difference.pow(2).mean();
}

torch::Tensor nlcLoss(const torch::Tensor& prediction, const torch::Tensor& target)
{
    requireSameShape(prediction, target, "nlc");
    const torch::Tensor cosine =
        torch::nn::functional::cosine_similarity(tokens(prediction), tokens(target.detach()),
                                                 torch::nn::functional::CosineSimilarityFuncOptions().dim(1).eps(1e-8));
    return -torch::log(cosine.mean().abs());
}

torch::Tensor klTopLoss(const torch::Tensor& predictionLogits, const torch::Tensor& targetLogits, std::int64_t k)
{
    requireSameShape(predictionLogits, targetLogits, "kl_top");
    const std::int64_t vocabulary = predictionLogits.size(-1);
    if (k < 1 || k > vocabulary)
        throw Error("kl_top loss: k must be in 1.." + std::to_string(vocabulary) + " (the vocabulary), got " +
                    std::to_string(k));
    const torch::ScalarType type = lossType(predictionLogits);
    const torch::Tensor logP = torch::log_softmax(tokens(targetLogits.detach()).to(type), 1);
    const torch::Tensor logQ = torch::log_softmax(tokens(predictionLogits).to(type), 1);
    // The top-k of the logits and of log p are the same set (log_softmax is a shift per row).
    const torch::Tensor top = std::get<1>(torch::topk(logP, k, 1));
    const torch::Tensor logPTop = logP.gather(1, top);
    return (logPTop.exp() * (logPTop - logQ.gather(1, top))).sum(1).mean();
}

std::uint64_t stepSeed(std::uint64_t seed, std::int64_t block, std::int64_t step)
{
    return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(block)) ^
                      static_cast<std::uint64_t>(step));
}

CompositeLoss::CompositeLoss(std::vector<LossTerm> terms, std::uint64_t seed) : m_terms(std::move(terms)), m_seed(seed)
{
    if (m_terms.empty())
        throw Error("loss: at least one term is needed");
    for (const LossTerm& term : m_terms) {
        const std::string name = lossTypeName(term.type);
        if (!(term.weight >= 0.0) || !std::isfinite(term.weight))
            throw Error("loss " + name + ": weight must be a finite value >= 0");
        if (term.type == LossType::SlicedWasserstein && (term.projections < 1 || (term.p != 1 && term.p != 2)))
            throw Error("loss sw: projections must be >= 1 and p 1 or 2");
        if (term.type == LossType::KlTop && term.topK < 1)
            throw Error("loss kl_top: k must be >= 1");
    }
}

std::vector<std::string> CompositeLoss::termNames() const
{
    std::vector<std::string> names;
    for (std::size_t i = 0; i < m_terms.size(); ++i) {
        const std::string base = lossTypeName(m_terms[i].type);
        int repeat = 1;
        for (std::size_t j = 0; j < i; ++j)
            repeat += m_terms[j].type == m_terms[i].type ? 1 : 0;
        names.push_back(repeat == 1 ? base : base + "#" + std::to_string(repeat));
    }
    return names;
}

bool CompositeLoss::needsLogits() const
{
    for (const LossTerm& term : m_terms)
        if (term.type == LossType::KlTop)
            return true;
    return false;
}

LossEvaluation CompositeLoss::evaluate(const torch::Tensor& prediction, const torch::Tensor& target, std::int64_t block,
                                       std::int64_t step) const
{
    LossEvaluation evaluation;
    torch::Tensor predictionLogits, targetLogits;
    for (std::size_t i = 0; i < m_terms.size(); ++i) {
        const LossTerm& term = m_terms[i];
        torch::Tensor value;
        switch (term.type) {
        case LossType::Mse:
            value = mseLoss(prediction, target);
            break;
        case LossType::L2:
            value = l2Loss(prediction, target);
            break;
        case LossType::SlicedWasserstein: {
            // Each term draws its own directions (a second sw term must not repeat the first's).
            const torch::Tensor directions =
                randomUnitDirections(term.projections, prediction.size(-1), stepSeed(m_seed + i, block, step));
            value = slicedWassersteinLoss(prediction, target, directions, term.p);
            break;
        }
        case LossType::Nlc:
            value = nlcLoss(prediction, target);
            break;
        case LossType::KlTop:
            if (!m_logitHead)
                throw Error("loss kl_top: needs the model's output head, which this method does not provide");
            if (!predictionLogits.defined()) {
                predictionLogits = m_logitHead(prediction);
                torch::NoGradGuard noGrad;
                targetLogits = m_logitHead(target.detach());
            }
            value = klTopLoss(predictionLogits, targetLogits, term.topK);
            break;
        }
        evaluation.terms.push_back(value.item<double>());
        const torch::Tensor weighted = value * term.weight;
        evaluation.total = evaluation.total.defined() ? evaluation.total + weighted : weighted;
    }
    return evaluation;
}

} // namespace core
