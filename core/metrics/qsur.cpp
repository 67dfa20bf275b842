#include "metrics/qsur.h"

#include "util/error.h"

#include <cmath>
#include <numbers>
#include <string>

namespace core {
namespace {

// Standard normal quantile z_p: bisection on the upper tail ½·erfc(z/√2) = 1 − p (or the
// lower one by symmetry). 200 halvings of [0, 40] reach the double spacing; the cost is
// nothing next to the eigendecomposition this feeds.
double normalQuantile(double p)
{
    const bool upper = p >= 0.5;
    const double tail = upper ? 1.0 - p : p;
    double low = 0.0, high = 40.0;
    for (int i = 0; i < 200; ++i) {
        const double mid = 0.5 * (low + high);
        if (mid <= low || mid >= high)
            break;
        if (0.5 * std::erfc(mid / std::numbers::sqrt2) > tail)
            low = mid;
        else
            high = mid;
    }
    const double z = 0.5 * (low + high);
    return upper ? z : -z;
}

// log of the ideal QSUR, a d-ball in its bounding cube: π^{d/2} / (Γ(d/2 + 1) · 2^d) (METHODS.md §7.1).
double logIdealQsur(double d)
{
    return 0.5 * d * std::log(std::numbers::pi) - std::lgamma(0.5 * d + 1.0) - d * std::log(2.0);
}

} // namespace

MomentAccumulator::MomentAccumulator(std::int64_t dim)
{
    if (dim < 1)
        throw Error("moment accumulator: dimension must be at least 1 (got " + std::to_string(dim) + ")");
    m_shift = torch::zeros({dim}, torch::kFloat32);
    m_sum = torch::zeros({dim}, torch::kFloat64);
    m_shiftedSum = torch::zeros({dim}, torch::kFloat64);
    m_shiftedOuter = torch::zeros({dim, dim}, torch::kFloat64);
}

void MomentAccumulator::add(const torch::Tensor& values)
{
    torch::NoGradGuard noGrad;
    const std::int64_t dim = m_sum.size(0);
    if (values.dim() == 0 || values.size(-1) != dim)
        throw Error("moment accumulator for " + std::to_string(dim) + " dimensions got a tensor with " +
                    (values.dim() == 0 ? std::string("no dimensions")
                                       : std::to_string(values.size(-1)) + " in its last dimension"));
    const torch::Tensor x = values.detach().reshape({-1, dim}).to(torch::kCPU, torch::kFloat32);
    if (x.size(0) == 0)
        return;
    // Second moments about a shift near the mean: Σ(x − s)(x − s)ᵀ/n − δδᵀ (δ = mean of
    // x − s) has no large terms to cancel when channels carry offsets much larger than
    // their spread. The plain sum keeps the mean exact.
    if (m_rows == 0)
        m_shift = x.mean(0);
    const torch::Tensor shifted = x - m_shift;
    m_sum.add_(x.sum(0, false, torch::kFloat64));
    m_shiftedSum.add_(shifted.sum(0, false, torch::kFloat64));
    m_shiftedOuter.add_(torch::mm(shifted.t(), shifted).to(torch::kFloat64));
    m_rows += x.size(0);
}

torch::Tensor MomentAccumulator::mean() const
{
    if (m_rows == 0)
        throw Error("moment accumulator: mean of no rows");
    return m_sum / static_cast<double>(m_rows);
}

torch::Tensor MomentAccumulator::covariance() const
{
    if (m_rows == 0)
        throw Error("moment accumulator: covariance of no rows");
    const double n = static_cast<double>(m_rows);
    const torch::Tensor delta = m_shiftedSum / n;
    const torch::Tensor cov = m_shiftedOuter / n - torch::outer(delta, delta);
    return 0.5 * (cov + cov.t()); // exactly symmetric for eigvalsh
}

double chiSquareQuantile(std::int64_t d, double p)
{
    if (d < 1)
        throw Error("χ² quantile: degrees of freedom must be at least 1 (got " + std::to_string(d) + ")");
    if (!(p > 0.0 && p < 1.0))
        throw Error("χ² quantile: probability must lie in (0, 1) (got " + std::to_string(p) + ")");
    // Wilson & Hilferty (1931): (χ²/d)^{1/3} ≈ N(1 − 2/(9d), 2/(9d)).
    const double a = 2.0 / (9.0 * static_cast<double>(d));
    const double cube = std::max(0.0, 1.0 - a + normalQuantile(p) * std::sqrt(a));
    return static_cast<double>(d) * cube * cube * cube;
}

QsurResult qsurFromMoments(const torch::Tensor& mean, const torch::Tensor& covariance, double probability)
{
    torch::NoGradGuard noGrad;
    const std::int64_t dim = mean.dim() == 1 ? mean.size(0) : -1;
    if (dim < 1 || covariance.dim() != 2 || covariance.size(0) != dim || covariance.size(1) != dim)
        throw Error("QSUR: mean of shape [" + std::to_string(mean.numel()) + "] and covariance [" +
                    (covariance.dim() == 2
                         ? std::to_string(covariance.size(0)) + ", " + std::to_string(covariance.size(1))
                         : std::to_string(covariance.numel())) +
                    "] are not [d] and [d, d]");
    const torch::Tensor mu = mean.detach().to(torch::kCPU, torch::kFloat64);
    torch::Tensor sigma = covariance.detach().to(torch::kCPU, torch::kFloat64).clone();
    if (!torch::isfinite(mu).all().item<bool>() || !torch::isfinite(sigma).all().item<bool>())
        throw Error("QSUR: mean or covariance is not finite");
    const double d = static_cast<double>(dim);
    const double trace = sigma.diagonal().sum().item<double>();
    if (!(trace > 0.0))
        throw Error("QSUR: covariance has trace " + std::to_string(trace) + " (constant data has no volume)");
    // Regularization of METHODS.md §7.1: Σ + 1e-8 · tr(Σ)/d · I keeps log λ finite.
    const double ridge = 1e-8 * trace / d;
    sigma.diagonal().add_(ridge);
    sigma = 0.5 * (sigma + sigma.t());

    torch::Tensor lambda = torch::linalg_eigvalsh(sigma, "L").flip(0); // descending
    const double largest = lambda[0].item<double>();
    const double smallest = lambda[dim - 1].item<double>();
    if (smallest < -1e-6 * largest)
        throw Error("QSUR: covariance is not positive semi-definite (eigenvalue " + std::to_string(smallest) +
                    " against largest " + std::to_string(largest) + ")");
    // Rounding can leave a tiny eigenvalue below the ridge; the ridge is its true floor.
    lambda = lambda.clamp_min(ridge);

    const double c = chiSquareQuantile(dim, probability);
    // log V_X: volume of the ellipsoid (x − μ)ᵀ Σ⁻¹ (x − μ) ≤ c (METHODS.md §7.1).
    const double logVolumeData = 0.5 * d * std::log(std::numbers::pi) - std::lgamma(0.5 * d + 1.0) +
                                 0.5 * d * std::log(c) + 0.5 * lambda.log().sum().item<double>();
    // log V_S: the cube with edge L = max_j(μ_j + r_j) − min_j(μ_j − r_j), r_j = sqrt(c Σ_jj).
    const torch::Tensor radius = (c * sigma.diagonal()).sqrt();
    const double edge = ((mu + radius).max() - (mu - radius).min()).item<double>();
    const double logVolumeCube = d * std::log(edge);
    const double logQsur = logVolumeData - logVolumeCube;

    QsurResult result;
    result.log10Qsur = logQsur / std::numbers::ln10;
    result.perDim = std::exp(logQsur / d);
    result.perDimNormalized = std::exp((logQsur - logIdealQsur(d)) / d);
    const double meanLambda = trace / d + ridge; // = mean of the regularized eigenvalues
    result.eigenvalues = lambda / meanLambda;
    result.diagonal = sigma.diagonal() / meanLambda;
    return result;
}

QsurResult qsur(const torch::Tensor& samples, double probability)
{
    if (samples.dim() != 2 || samples.size(0) < 2 || samples.size(1) < 1)
        throw Error("QSUR: samples must be [n, d] with n ≥ 2 (got " + std::to_string(samples.dim()) +
                    "-D tensor with " + std::to_string(samples.numel()) + " elements)");
    MomentAccumulator moments(samples.size(1));
    moments.add(samples);
    return qsurFromMoments(moments.mean(), moments.covariance(), probability);
}

} // namespace core
