#pragma once
// The settings of a LoRA fine-tuning (calib/lora.h), torch-free so job interfaces can carry them.
// Defaults: the authors' (PTQ1.61's qat/finetune_lora.py, METHODS.md §8.4) except the length of
// the training, sized for the workbench.

#include <cstdint>
#include <string>
#include <vector>

namespace core {

struct LoraConfig {
    std::int64_t rank = 64;
    double alpha = 16.0;
    double dropout = 0.1;
    /// Short Linear names of every block (the authors': q, k, v, gate, up, down; not o_proj).
    std::vector<std::string> targets = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                        "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
    std::int64_t steps = 200;              ///< optimizer steps (authors: 10 000)
    std::int64_t gradientAccumulation = 2; ///< windows per optimizer step, one at a time (authors: 2)
    double learningRate = 1e-4;            ///< AdamW, weight decay 0
    double warmupFraction = 0.1;           ///< linear warm-up share of the steps, then cosine to 0
    double maxGradNorm = 1.0;              ///< gradient clipping (HF Trainer's default)
    std::uint64_t seed = 0;                ///< A's initialization, the window order, dropout
};

} // namespace core
