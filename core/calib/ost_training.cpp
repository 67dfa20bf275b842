#include "calib/ost_training.h"

#include "calib/riemannian_adam.h"
#include "loss/reconstruction_loss.h"
#include "model/weight_layout.h"
#include "quant/hadamard.h"
#include "util/error.h"
#include "util/stopwatch.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace core {
namespace {

const std::vector<std::pair<OstLoss, std::string>>& lossNames()
{
    static const std::vector<std::pair<OstLoss, std::string>> names = {
        {OstLoss::KlTop, "kl_top"}, {OstLoss::Kl, "kl"}, {OstLoss::LogitMse, "mse"}, {OstLoss::CrossEntropy, "ce"}};
    return names;
}

// The block with every Linear's weight fake-quantized on the clipped grid (straight-through:
// the gradient reaches the transforms as if unquantized), as OSTQuant's W4A16 training does.
BlockWeights withFakeQuantizedLinears(const ModelConfig& config, BlockWeights block, const OstTrainingOptions& options)
{
    for (const std::string& name : linearShortNames(config.family)) {
        torch::Tensor& w = block.tensors.at(name + ".weight");
        const QuantGrid grid = fitClippedGroups(w.detach(), options.weightBits, options.weightSymmetric,
                                                options.weightGroupSize, options.clip);
        w = fakeQuantizeSte(w, grid, options.weightGroupSize);
    }
    return block;
}

// Windows in a fresh random order every epoch (the HF Trainer shuffles its dataset).
class WindowSampler {
public:
    WindowSampler(std::int64_t windows, std::uint64_t seed) : m_order(static_cast<std::size_t>(windows)), m_engine(seed)
    {
        reshuffle();
    }
    torch::Tensor next(std::int64_t count)
    {
        std::vector<std::int64_t> picked;
        while (static_cast<std::int64_t>(picked.size()) < count) {
            if (m_position == m_order.size())
                reshuffle();
            picked.push_back(m_order[m_position++]);
        }
        return torch::tensor(picked, torch::kInt64);
    }

private:
    void reshuffle()
    {
        std::iota(m_order.begin(), m_order.end(), 0);
        // Fisher–Yates with the engine's raw output (std::shuffle's use of it is unspecified).
        for (std::size_t i = m_order.size(); i > 1; --i)
            std::swap(m_order[i - 1], m_order[static_cast<std::size_t>(m_engine() % i)]);
        m_position = 0;
    }
    std::vector<std::int64_t> m_order;
    std::mt19937_64 m_engine;
    std::size_t m_position = 0;
};

double largestOrthogonalityError(const OstTransforms& transforms)
{
    double worst = 0.0;
    for (const torch::Tensor& r : transforms.rotations()) {
        if (r.dim() == 2) {
            worst = std::max(worst, orthogonalityError(r));
            continue;
        }
        for (std::int64_t h = 0; h < r.size(0); ++h)
            worst = std::max(worst, orthogonalityError(r[h]));
    }
    return worst;
}

} // namespace

OstLoss ostLossFromName(const std::string& name)
{
    for (const auto& [loss, spelled] : lossNames())
        if (spelled == name)
            return loss;
    throw Error("unknown OSTQuant training loss '" + name + "' (known: kl_top, kl, mse, ce)");
}

std::string ostLossName(OstLoss loss)
{
    for (const auto& [known, spelled] : lossNames())
        if (known == loss)
            return spelled;
    return "?";
}

torch::Tensor transformedLogits(const ModelConfig& config, const std::vector<BlockWeights>& fusedBlocks,
                                const GlobalWeights& fusedGlobals, const OstTransforms& transforms,
                                const torch::Tensor& ids, const AttentionContext& attention, const ForwardHooks* hooks,
                                const OstTrainingOptions& options)
{
    // E[ids]·R rather than (E·R)[ids]: rotating the whole embedding every step costs V·H².
    torch::Tensor hidden = embedTokens(config, fusedGlobals, ids);
    if (transforms.layout.residualRotation)
        hidden = torch::matmul(hidden, transforms.residual);
    for (std::int64_t i = 0; i < config.numLayers; ++i) {
        BlockWeights block =
            transformedBlock(config, fusedBlocks[static_cast<std::size_t>(i)], i, transforms, torch::kFloat32);
        if (options.weightFakeQuant)
            block = withFakeQuantizedLinears(config, std::move(block), options);
        hidden = decoderBlock(config, block, hidden, attention, blockPrefix(config, i), hooks);
    }
    GlobalWeights head = fusedGlobals;
    if (transforms.layout.residualRotation)
        head.lmHead = torch::matmul(fusedGlobals.lmHead, transforms.residual);
    return outputLogits(config, head, hidden);
}

torch::Tensor ostLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& ids,
                      const OstTrainingOptions& options)
{
    switch (options.loss) {
    case OstLoss::KlTop:
        return klTopLoss(student, teacher, options.topK);
    case OstLoss::Kl: {
        const torch::Tensor logP = torch::log_softmax(teacher, -1);
        const torch::Tensor logQ = torch::log_softmax(student, -1);
        const std::int64_t tokens = student.numel() / student.size(-1);
        return (logP.exp() * (logP - logQ)).sum() / static_cast<double>(tokens);
    }
    case OstLoss::LogitMse:
        return torch::mse_loss(student, teacher);
    case OstLoss::CrossEntropy: {
        const std::int64_t tokens = ids.size(1);
        const torch::Tensor logits = student.narrow(1, 0, tokens - 1);
        return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                    ids.narrow(1, 1, tokens - 1).reshape({-1}));
    }
    }
    throw Error("OSTQuant: unknown loss (internal error)");
}

OstTrainingResult trainOstTransforms(ModelContext& model, const std::vector<BlockWeights>& fusedBlocks,
                                     const GlobalWeights& fusedGlobals, OstTransforms& transforms,
                                     const OstTrainingOptions& options)
{
    const Stopwatch stopwatch;
    OstTrainingResult result;
    result.curve.terms = {ostLossName(options.loss), "orth_error"};
    const std::int64_t windows = model.calibrationIds().size(0);
    result.curve.stepsPerEpoch = std::max<std::int64_t>(1, windows / std::max<std::int64_t>(1, options.batch));
    std::vector<torch::Tensor> rotations = transforms.rotations();
    std::vector<torch::Tensor> scales = transforms.scaleVectors();
    if (options.steps == 0 || (rotations.empty() && scales.empty()))
        return result;
    for (torch::Tensor& p : rotations)
        p.requires_grad_(true);
    for (torch::Tensor& p : scales)
        p.requires_grad_(true);
    std::vector<torch::Tensor> all = rotations;
    all.insert(all.end(), scales.begin(), scales.end());
    RiemannianAdam optimizer(rotations, scales);
    WindowSampler sampler(windows, options.seed);
    const ModelConfig& config = model.config();
    const ForwardHooks& hooks = model.streamHooks();
    for (std::int64_t step = 0; step < options.steps; ++step) {
        model.cancel().throwIfCancelled();
        const torch::Tensor ids = model.calibrationIds().index_select(0, sampler.next(options.batch));
        torch::Tensor teacher;
        {
            torch::NoGradGuard noGrad;
            teacher = model.model().forward(ids);
        }
        torch::AutoGradMode gradients(true);
        for (torch::Tensor& p : all)
            p.mutable_grad() = torch::Tensor();
        const torch::Tensor student =
            transformedLogits(config, fusedBlocks, fusedGlobals, transforms, ids, model.attention(), &hooks, options);
        const torch::Tensor loss = ostLoss(student, teacher, ids, options);
        if (!std::isfinite(loss.item<double>()))
            throw Error("ostquant: the training loss became " + std::to_string(loss.item<double>()) + " at step " +
                        std::to_string(step + 1) + " (lower ostquant.rotation_lr / scale_lr)");
        loss.backward();
        clipGradientNorm(all, options.maxGradNorm);
        // HF's linear schedule: step k (from 0) uses lr · (N − k) / N.
        const double decay = static_cast<double>(options.steps - step) / static_cast<double>(options.steps);
        optimizer.step(options.rotationLr * decay, options.scaleLr * decay);
        const double orthogonality = largestOrthogonalityError(transforms);
        result.maxOrthogonalityError = std::max(result.maxOrthogonalityError, orthogonality);
        result.curve.steps.push_back({loss.item<double>(), orthogonality, loss.item<double>()});
        if (model.onStep)
            model.onStep("training step " + std::to_string(step + 1) + "/" + std::to_string(options.steps),
                         static_cast<double>(step + 1) / static_cast<double>(options.steps),
                         {{"step", static_cast<double>(step + 1)},
                          {ostLossName(options.loss), loss.item<double>()},
                          {"orth_error", orthogonality}});
        if (orthogonality > options.orthogonalityLimit)
            throw Error("ostquant: a rotation left the orthogonal manifold at step " + std::to_string(step + 1) +
                        " (‖RᵀR − I‖_F = " + std::to_string(orthogonality) + " > " +
                        std::to_string(options.orthogonalityLimit) + ")");
    }
    for (torch::Tensor& p : all) {
        p.requires_grad_(false);
        p.mutable_grad() = torch::Tensor();
    }
    result.seconds = stopwatch.seconds();
    return result;
}

} // namespace core
