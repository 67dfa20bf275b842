#include "calib/lora.h"

#include "model/weight_layout.h"
#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace core {

LoraAdapters::LoraAdapters(const DecoderModel& model, const LoraConfig& config)
    : m_scale(config.alpha / static_cast<double>(config.rank)), m_dropout(config.dropout)
{
    const ModelConfig& modelConfig = model.config();
    const auto linears = linearShortNames(modelConfig.family);
    for (const auto& target : config.targets)
        if (std::find(linears.begin(), linears.end(), target) == linears.end())
            throw Error("lora: unknown target Linear '" + target + "' (this model has " + [&] {
                std::string names;
                for (const auto& n : linears)
                    names += (names.empty() ? "" : ", ") + n;
                return names;
            }() + ")");
    torch::NoGradGuard noGrad;
    auto generator = at::detail::createCPUGenerator(config.seed);
    for (std::int64_t b = 0; b < modelConfig.numLayers; ++b) {
        const BlockWeights& block = model.block(b);
        for (const auto& target : config.targets) {
            const torch::Tensor& w = block.at(target + ".weight");
            const std::int64_t out = w.size(0), in = w.size(1);
            if (config.rank < 1 || config.rank > std::min(in, out))
                throw Error("lora: rank " + std::to_string(config.rank) + " must be in 1.." +
                            std::to_string(std::min(in, out)) + " for " + blockPrefix(modelConfig, b) + target);
            const double bound = 1.0 / std::sqrt(static_cast<double>(in)); // kaiming_uniform_(a = √5)
            Adapter adapter;
            adapter.a = torch::empty({config.rank, in}).uniform_(-bound, bound, generator).requires_grad_(true);
            adapter.b = torch::zeros({out, config.rank}).requires_grad_(true);
            m_adapters.emplace(blockPrefix(modelConfig, b) + target, std::move(adapter));
        }
    }
}

ForwardHooks LoraAdapters::hooks(bool training) const
{
    ForwardHooks hooks;
    hooks.linearOutputs.push_back(
        [this, training](const std::string& layer, const torch::Tensor& input, const torch::Tensor& output) {
            const auto found = m_adapters.find(layer);
            if (found == m_adapters.end())
                return output;
            const torch::Tensor x = torch::dropout(input, m_dropout, training);
            return output + torch::matmul(torch::matmul(x, found->second.a.t()), found->second.b.t()) * m_scale;
        });
    return hooks;
}

std::vector<torch::Tensor> LoraAdapters::parameters() const
{
    std::vector<torch::Tensor> parameters;
    for (const auto& [layer, adapter] : m_adapters) {
        parameters.push_back(adapter.a);
        parameters.push_back(adapter.b);
    }
    return parameters;
}

torch::Tensor LoraAdapters::delta(const std::string& layer) const
{
    torch::NoGradGuard noGrad;
    const Adapter& adapter = m_adapters.at(layer);
    return torch::matmul(adapter.b, adapter.a) * m_scale;
}

std::vector<std::string> LoraAdapters::layers() const
{
    std::vector<std::string> names;
    for (const auto& [layer, adapter] : m_adapters)
        names.push_back(layer);
    return names;
}

double loraLearningRate(const LoraConfig& config, std::int64_t step, std::int64_t total)
{
    const auto warmup = static_cast<std::int64_t>(config.warmupFraction * static_cast<double>(total));
    if (step < warmup)
        return config.learningRate * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
    const double progress =
        static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup));
    return config.learningRate * 0.5 * (1.0 + std::cos(M_PI * progress));
}

std::vector<double> trainLora(const DecoderModel& model, LoraAdapters& adapters, const torch::Tensor& windows,
                              const LoraConfig& config,
                              const std::function<void(std::int64_t, std::int64_t, double)>& onStep,
                              const CancelToken& cancel)
{
    const std::int64_t count = windows.size(0), tokens = windows.size(1);
    if (count == 0 || tokens < 2)
        throw Error("lora: no training windows of at least 2 tokens");
    std::vector<std::int64_t> order(static_cast<std::size_t>(count));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle(config.seed);
    const auto reshuffle = [&] {
        for (std::size_t i = order.size(); i > 1; --i) // Fisher–Yates: std::shuffle's algorithm is unspecified
            std::swap(order[i - 1], order[static_cast<std::size_t>(shuffle() % i)]);
    };
    reshuffle();
    torch::manual_seed(config.seed); // dropout masks
    torch::optim::AdamW optimizer(adapters.parameters(),
                                  torch::optim::AdamWOptions(config.learningRate).weight_decay(0.0));
    const AttentionContext attention(model.config(), tokens, model.device());
    const ForwardHooks hooks = adapters.hooks(/*training=*/true);
    std::vector<double> losses;
    std::size_t next = 0;
    for (std::int64_t step = 0; step < config.steps; ++step) {
        const double lr = loraLearningRate(config, step, config.steps);
        for (auto& group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        optimizer.zero_grad();
        double stepLoss = 0.0;
        for (std::int64_t k = 0; k < config.gradientAccumulation; ++k) {
            cancel.throwIfCancelled();
            if (next == order.size()) {
                reshuffle();
                next = 0;
            }
            const torch::Tensor ids = windows.narrow(0, order[next++], 1);
            torch::AutoGradMode enableGrad(true);
            torch::Tensor hidden = model.embed(ids);
            for (std::int64_t b = 0; b < model.config().numLayers; ++b)
                hidden = model.runBlock(b, hidden, attention, &hooks);
            const torch::Tensor logits = model.logits(hidden).narrow(1, 0, tokens - 1);
            const torch::Tensor loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                                            ids.narrow(1, 1, tokens - 1).reshape({-1}));
            (loss / static_cast<double>(config.gradientAccumulation)).backward();
            stepLoss += loss.item<double>() / static_cast<double>(config.gradientAccumulation);
        }
        if (!std::isfinite(stepLoss))
            throw Error("lora: the loss is not finite at step " + std::to_string(step + 1));
        torch::nn::utils::clip_grad_norm_(adapters.parameters(), config.maxGradNorm);
        optimizer.step();
        losses.push_back(stepLoss);
        if (onStep)
            onStep(step, config.steps, stepLoss);
    }
    return losses;
}

void mergeLora(DecoderModel& model, const LoraAdapters& adapters)
{
    const ModelConfig& config = model.config();
    for (std::int64_t b = 0; b < config.numLayers; ++b) {
        const std::string prefix = blockPrefix(config, b);
        BlockWeights block = model.block(b);
        bool changed = false;
        for (const auto& layer : adapters.layers())
            if (layer.rfind(prefix, 0) == 0) { // the prefix ends with '.': block 1 is not block 10
                const std::string weight = layer.substr(prefix.size()) + ".weight";
                block.tensors[weight] = block.at(weight) + adapters.delta(layer);
                changed = true;
            }
        if (changed)
            model.replaceBlock(b, std::move(block));
    }
}

} // namespace core
