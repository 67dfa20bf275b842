#include "calib/hessian.h"

#include "util/error.h"

namespace core {

HessianAccumulator::HessianAccumulator(std::int64_t columns, torch::Device device)
    : m_sum(torch::zeros({columns, columns}, torch::TensorOptions().dtype(torch::kFloat64).device(device)))
{
}

void HessianAccumulator::add(const torch::Tensor& inputs)
{
    torch::NoGradGuard noGrad;
    if (inputs.size(-1) != m_sum.size(0))
        throw Error("Hessian accumulator for " + std::to_string(m_sum.size(0)) + " columns got inputs with " +
                    std::to_string(inputs.size(-1)));
    // One float32 product per batch (BLAS accumulates over at most a batch of tokens),
    // summed across batches in float64: twice the speed of a float64 GEMM, and the
    // long sum over the whole calibration set keeps double precision.
    const torch::Tensor x = inputs.reshape({-1, inputs.size(-1)}).to(torch::kFloat32);
    m_sum.add_(torch::mm(x.t(), x).to(torch::kFloat64));
    m_tokens += x.size(0);
}

torch::Tensor HessianAccumulator::hessian() const
{
    if (m_tokens == 0)
        return torch::zeros_like(m_sum, torch::kFloat32);
    return (m_sum * (2.0 / static_cast<double>(m_tokens))).to(torch::kFloat32);
}

} // namespace core
