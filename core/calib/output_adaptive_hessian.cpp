#include "calib/output_adaptive_hessian.h"

#include "model/decoder_forward.h"
#include "model/weight_layout.h"
#include "util/error.h"

namespace core {

std::map<std::string, torch::Tensor>
outputAdaptiveHessians(const ModelContext& model, std::int64_t firstBlock, std::int64_t lastBlock,
                       const torch::Tensor& firstInputs, const torch::Tensor& ids, const ForwardHooks* hooks,
                       const std::function<void(std::int64_t, std::int64_t)>& onWindow)
{
    const ModelConfig& config = model.config();
    if (firstBlock < 0 || lastBlock > config.numLayers || firstBlock >= lastBlock)
        throw Error("OAC Hessian: block range [" + std::to_string(firstBlock) + ", " + std::to_string(lastBlock) +
                    ") is not inside the model's " + std::to_string(config.numLayers) + " blocks");
    if (firstInputs.size(0) != ids.size(0) || firstInputs.size(1) != ids.size(1))
        throw Error("OAC Hessian: inputs and windows disagree in count or length");

    // The requested blocks' weights as leaves that take gradients (the rest of each block, and
    // every other block, takes none: autograd only carries the activations through them).
    std::vector<BlockWeights> blocks;
    std::vector<std::string> layers;
    std::vector<torch::Tensor> leaves;
    for (std::int64_t b = firstBlock; b < lastBlock; ++b) {
        BlockWeights weights = model.model().block(b);
        for (const auto& shortName : linearShortNames(config.family)) {
            torch::Tensor& w = weights.tensors.at(shortName + ".weight");
            w = w.detach().to(torch::kFloat32).requires_grad_(true);
            leaves.push_back(w);
            layers.push_back(blockPrefix(config, b) + shortName);
        }
        blocks.push_back(std::move(weights));
    }
    std::vector<torch::Tensor> sums;
    for (const torch::Tensor& w : leaves)
        sums.push_back(torch::zeros({w.size(1), w.size(1)}, w.options().dtype(torch::kFloat64).requires_grad(false)));

    const std::int64_t windows = ids.size(0);
    torch::AutoGradMode gradients(true);
    for (std::int64_t n = 0; n < windows; ++n) {
        model.cancel().throwIfCancelled();
        torch::Tensor hidden = firstInputs.narrow(0, n, 1).detach();
        for (std::int64_t b = firstBlock; b < lastBlock; ++b)
            hidden = decoderBlock(config, blocks[static_cast<std::size_t>(b - firstBlock)], hidden, model.attention(),
                                  blockPrefix(config, b), hooks);
        hidden = model.runBlocks(lastBlock, config.numLayers, hidden, hooks, true);
        const torch::Tensor loss = model.outputCrossEntropy(hidden, ids.narrow(0, n, 1));
        const auto grads = torch::autograd::grad({loss}, leaves);
        torch::NoGradGuard noGrad;
        for (std::size_t l = 0; l < leaves.size(); ++l)
            sums[l].add_(torch::mm(grads[l].t(), grads[l]).to(torch::kFloat64));
        if (onWindow)
            onWindow(n + 1, windows);
    }
    std::map<std::string, torch::Tensor> hessians;
    for (std::size_t l = 0; l < leaves.size(); ++l)
        hessians[layers[l]] = (sums[l] / static_cast<double>(windows)).to(torch::kFloat32);
    return hessians;
}

torch::Tensor blendedHessian(const torch::Tensor& outputAdaptive, const torch::Tensor& layerWise, double beta)
{
    torch::NoGradGuard noGrad;
    const auto unitMeanDiagonal = [](const torch::Tensor& h) {
        const double mean = h.diagonal().mean().item<double>();
        return mean > 0 ? h / mean : h.clone();
    };
    return unitMeanDiagonal(outputAdaptive) + beta * unitMeanDiagonal(layerWise);
}

} // namespace core
