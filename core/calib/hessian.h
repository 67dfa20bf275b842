#pragma once
// The layer-wise Hessian of GPTQ: H = (2/n) Σ_t x_t x_tᵀ over the n calibration
// tokens that reach one Linear (METHODS.md §5.2; IST-DASLab/gptq gptq.py add_batch).

#include <torch/torch.h>

#include <cstdint>

namespace core {

class HessianAccumulator {
public:
    explicit HessianAccumulator(std::int64_t columns, torch::Device device = torch::kCPU);

    /// Adds a batch of layer inputs [..., columns] (any leading dims are tokens). Uses float64
    /// accumulation so that the running average does not drift over many batches.
    void add(const torch::Tensor& inputs);

    /// (2/n) Σ x xᵀ as float32 [columns, columns]; zeros when nothing was added.
    torch::Tensor hessian() const;
    std::int64_t tokens() const { return m_tokens; }

private:
    torch::Tensor m_sum; ///< Σ x xᵀ in float64
    std::int64_t m_tokens = 0;
};

} // namespace core
