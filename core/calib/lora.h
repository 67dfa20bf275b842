#pragma once
// LoRA adapters on a model's Linears and their training with next-token cross-entropy: PTQ1.61's
// quantization preprocessing ("restorative LoRA", METHODS.md §8.4), which trains adapters on the
// fake-quantized model and merges them into its weights before a second PTQ. As Hugging Face
// PEFT does it (the authors' qat/finetune_lora.py uses PEFT): y = W x + (α/r) · B A dropout(x),
// A [r, d_in] Kaiming-uniform (a = √5, i.e. U(±1/√d_in)), B [d_out, r] zero, so an untrained
// adapter changes nothing; merged, W' = W + (α/r) · B A.

#include "calib/lora_config.h"
#include "model/decoder_model.h"
#include "util/cancel_token.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace core {

class LoraAdapters {
public:
    /// One adapter per target Linear of every block of `model`. Throws core::Error for an
    /// unknown target name or a rank outside 1..min(d_in, d_out).
    LoraAdapters(const DecoderModel& model, const LoraConfig& config);

    /// The adapters' path added to each target Linear's output; dropout only when `training`.
    ForwardHooks hooks(bool training) const;
    std::vector<torch::Tensor> parameters() const;
    /// (α/r) · B A of Linear `layer` (full name), no gradient.
    torch::Tensor delta(const std::string& layer) const;
    std::vector<std::string> layers() const;

private:
    struct Adapter {
        torch::Tensor a, b;
    };
    std::map<std::string, Adapter> m_adapters;
    double m_scale = 0.0;
    double m_dropout = 0.0;
};

/// Learning rate of optimizer step `step` (0-based) of `total`: linear warm-up over the first
/// warmupFraction · total steps, then cosine decay to 0 (HF's "cosine" schedule).
double loraLearningRate(const LoraConfig& config, std::int64_t step, std::int64_t total);

/// Trains `adapters` on `windows` [N, T] (token ids) of `model`, whose weights stay frozen:
/// config.steps optimizer steps, each accumulating config.gradientAccumulation windows' mean
/// next-token cross-entropy, windows in a seeded shuffled order, cycled. Returns each step's
/// mean loss. `onStep(step, total, loss)` after every step; checks `cancel` per window.
std::vector<double> trainLora(const DecoderModel& model, LoraAdapters& adapters, const torch::Tensor& windows,
                              const LoraConfig& config,
                              const std::function<void(std::int64_t, std::int64_t, double)>& onStep,
                              const CancelToken& cancel);

/// Every block of `model` with each adapted Linear's weight replaced by W + delta.
void mergeLora(DecoderModel& model, const LoraAdapters& adapters);

} // namespace core
