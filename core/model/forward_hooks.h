#pragma once
// Composable hooks on the decoder forward (issue 15 §3). A forward may carry several at once:
// transforms of each Linear's input (activation fake-quant, an online Hadamard), observers of
// each Linear's input and output (diagnostics and a method side by side), and transforms of
// K and V after RoPE (KV-cache quantization, a Q/K rotation), and transforms of each Linear's
// output (a LoRA adapter's low-rank path). Transforms run in the order
// given and may carry gradients (straight-through estimators), so a training forward goes
// through the same hooks as evaluation.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace core {

/// Called for every Linear in a block with its full layer name, its input (after the input
/// transforms: what the Linear multiplies) and its output ([batch, tokens, features]). Runs on
/// the forward thread; must not modify the tensors.
using LinearObserver =
    std::function<void(const std::string& layerName, const torch::Tensor& input, const torch::Tensor& output)>;

/// Replaces the input of the Linear `layerName`.
using LinearInputTransform = std::function<torch::Tensor(const std::string& layerName, const torch::Tensor& input)>;

/// Replaces the output of the Linear `layerName` given its input (after the input transforms):
/// a LoRA adapter adds its low-rank path here.
using LinearOutputTransform =
    std::function<torch::Tensor(const std::string& layerName, const torch::Tensor& input, const torch::Tensor& output)>;

/// Replaces K and V of the block `blockPrefix` ("model.layers.3.") after RoPE, each
/// [batch, kvHeads, tokens, headDim], before attention reads them.
using KeyValueTransform = std::function<std::pair<torch::Tensor, torch::Tensor>(
    const std::string& blockPrefix, const torch::Tensor& keys, const torch::Tensor& values)>;

struct ForwardHooks {
    std::vector<LinearInputTransform> linearInputs;
    std::vector<LinearObserver> observers;
    std::vector<KeyValueTransform> keyValues;
    std::vector<LinearOutputTransform> linearOutputs;

    bool empty() const
    {
        return linearInputs.empty() && observers.empty() && keyValues.empty() && linearOutputs.empty();
    }
    /// These hooks and `other`'s, each list in order (this one's first).
    ForwardHooks with(const ForwardHooks& other) const
    {
        ForwardHooks both = *this;
        both.linearInputs.insert(both.linearInputs.end(), other.linearInputs.begin(), other.linearInputs.end());
        both.observers.insert(both.observers.end(), other.observers.begin(), other.observers.end());
        both.keyValues.insert(both.keyValues.end(), other.keyValues.begin(), other.keyValues.end());
        both.linearOutputs.insert(both.linearOutputs.end(), other.linearOutputs.begin(), other.linearOutputs.end());
        return both;
    }
};

/// Hooks with one observer.
inline ForwardHooks observing(LinearObserver observer)
{
    ForwardHooks hooks;
    hooks.observers.push_back(std::move(observer));
    return hooks;
}

} // namespace core
