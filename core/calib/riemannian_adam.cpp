#include "calib/riemannian_adam.h"

#include <cmath>

namespace core {

torch::Tensor projectToOrthogonal(const torch::Tensor& x)
{
    const auto [u, s, vh] = torch::linalg_svd(x, false);
    return torch::matmul(u, vh);
}

double clipGradientNorm(const std::vector<torch::Tensor>& parameters, double maxNorm)
{
    torch::NoGradGuard noGrad;
    double squared = 0.0;
    for (const torch::Tensor& p : parameters)
        if (p.grad().defined())
            squared += p.grad().to(torch::kFloat64).pow(2).sum().item<double>();
    const double norm = std::sqrt(squared);
    const double coefficient = maxNorm / (norm + 1e-6);
    if (coefficient < 1.0)
        for (const torch::Tensor& p : parameters)
            if (p.grad().defined())
                p.grad().mul_(coefficient);
    return norm;
}

RiemannianAdam::RiemannianAdam(std::vector<torch::Tensor> rotations, std::vector<torch::Tensor> euclidean,
                               RiemannianAdamOptions options)
    : m_rotations(std::move(rotations)), m_euclidean(std::move(euclidean)), m_options(options)
{
    for (const torch::Tensor& p : m_rotations)
        m_rotationState.push_back({torch::zeros_like(p), torch::zeros_like(p)});
    for (const torch::Tensor& p : m_euclidean)
        m_euclideanState.push_back({torch::zeros_like(p), torch::zeros_like(p)});
}

void RiemannianAdam::step(double rotationLr, double euclideanLr)
{
    torch::NoGradGuard noGrad;
    ++m_step;
    for (std::size_t i = 0; i < m_rotations.size(); ++i)
        stepRotation(m_rotations[i], m_rotationState[i], rotationLr);
    for (std::size_t i = 0; i < m_euclidean.size(); ++i)
        stepEuclidean(m_euclidean[i], m_euclideanState[i], euclideanLr);
    if (m_options.stabilize > 0 && m_step % m_options.stabilize == 0)
        for (std::size_t i = 0; i < m_rotations.size(); ++i) {
            torch::Tensor& x = m_rotations[i];
            x.copy_(projectToOrthogonal(x));
            torch::Tensor& m = m_rotationState[i].exp_avg;
            m.copy_(m - torch::matmul(torch::matmul(x, m.transpose(-1, -2)), x));
        }
}

void RiemannianAdam::stepRotation(torch::Tensor& x, State& state, double lr)
{
    if (!x.grad().defined())
        return;
    x.copy_(projectToOrthogonal(x));
    const torch::Tensor g = x.grad();
    const torch::Tensor rgrad = g - torch::matmul(torch::matmul(x, g.transpose(-1, -2)), x);
    state.exp_avg.mul_(m_options.beta1).add_(rgrad, 1.0 - m_options.beta1);
    state.exp_avg_sq.mul_(m_options.beta2).add_(rgrad * rgrad, 1.0 - m_options.beta2);
    const double t = static_cast<double>(m_step);
    const double correction1 = 1.0 - std::pow(m_options.beta1, t);
    const double correction2 = 1.0 - std::pow(m_options.beta2, t);
    const torch::Tensor direction =
        (state.exp_avg / correction1) / ((state.exp_avg_sq / correction2).sqrt() + m_options.eps);
    const torch::Tensor u = -lr * direction;
    // Cayley retraction of X and transport of m together: solve (I − A/2)·[X', m'] = (I + A/2)·[X, m].
    const torch::Tensor a = torch::matmul(u, x.transpose(-1, -2)) - torch::matmul(x, u.transpose(-1, -2));
    const torch::Tensor identity = torch::eye(x.size(-1), x.options()).expand_as(a);
    const torch::Tensor both = torch::cat({x, state.exp_avg}, -1);
    const torch::Tensor moved = torch::linalg_solve(identity - 0.5 * a, both + 0.5 * torch::matmul(a, both));
    const std::int64_t n = x.size(-1);
    x.copy_(moved.narrow(-1, 0, n));
    state.exp_avg.copy_(moved.narrow(-1, n, n));
}

void RiemannianAdam::stepEuclidean(torch::Tensor& x, State& state, double lr)
{
    if (!x.grad().defined())
        return;
    const torch::Tensor g = x.grad();
    state.exp_avg.mul_(m_options.beta1).add_(g, 1.0 - m_options.beta1);
    state.exp_avg_sq.mul_(m_options.beta2).add_(g * g, 1.0 - m_options.beta2);
    const double t = static_cast<double>(m_step);
    const double correction1 = 1.0 - std::pow(m_options.beta1, t);
    const double correction2 = 1.0 - std::pow(m_options.beta2, t);
    x.sub_(lr * (state.exp_avg / correction1) / ((state.exp_avg_sq / correction2).sqrt() + m_options.eps));
}

} // namespace core
