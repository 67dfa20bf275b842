#include "quant/hadamard.h"

#include "util/error.h"

#include <cmath>
#include <random>
#include <vector>

namespace core {
namespace {

bool isPrime(std::int64_t q)
{
    if (q < 2)
        return false;
    for (std::int64_t d = 2; d * d <= q; ++d)
        if (q % d == 0)
            return false;
    return true;
}

// Paley's construction I for a prime q ≡ 3 (mod 4): with the Jacobsthal matrix
// Q_ij = χ(j − i) (χ the quadratic character mod q), H = I + [[0, 1ᵀ], [−1, Q]] is a (skew)
// Hadamard matrix of order q + 1. Entries ±1, unnormalized.
torch::Tensor paleyHadamard(std::int64_t q)
{
    std::vector<int> character(static_cast<std::size_t>(q), -1);
    character[0] = 0;
    for (std::int64_t x = 1; x < q; ++x)
        character[static_cast<std::size_t>((x * x) % q)] = 1;
    const std::int64_t n = q + 1;
    torch::Tensor h = torch::zeros({n, n}, torch::kFloat64);
    auto a = h.accessor<double, 2>();
    for (std::int64_t j = 1; j < n; ++j) {
        a[0][j] = 1.0;
        a[j][0] = -1.0;
    }
    for (std::int64_t i = 0; i < q; ++i)
        for (std::int64_t j = 0; j < q; ++j)
            a[i + 1][j + 1] = character[static_cast<std::size_t>(((j - i) % q + q) % q)];
    h += torch::eye(n, torch::kFloat64);
    return h;
}

// A ±1 Hadamard matrix of order m when m is 1 or a Paley order; undefined otherwise.
torch::Tensor baseHadamard(std::int64_t m)
{
    if (m == 1)
        return torch::ones({1, 1}, torch::kFloat64);
    if (m % 4 == 0 && isPrime(m - 1))
        return paleyHadamard(m - 1); // m − 1 ≡ 3 (mod 4) since m ≡ 0 (mod 4)
    return {};
}

// Standard normal draws from the engine (Box–Muller; std::normal_distribution's algorithm
// differs between standard libraries).
torch::Tensor gaussianMatrix(std::int64_t n, std::uint64_t seed)
{
    std::mt19937_64 engine(seed);
    const auto uniform = [&] { return (static_cast<double>(engine() >> 11) + 0.5) * 0x1.0p-53; };
    torch::Tensor g = torch::empty({n, n}, torch::kFloat64);
    double* data = g.data_ptr<double>();
    const double twoPi = 2.0 * std::acos(-1.0);
    for (std::int64_t i = 0; i < n * n; i += 2) {
        const double radius = std::sqrt(-2.0 * std::log(uniform()));
        const double angle = twoPi * uniform();
        data[i] = radius * std::cos(angle);
        if (i + 1 < n * n)
            data[i + 1] = radius * std::sin(angle);
    }
    return g;
}

} // namespace

torch::Tensor hadamardMatrix(std::int64_t n)
{
    if (n < 1)
        throw Error("Hadamard matrix: order must be positive, got " + std::to_string(n));
    std::int64_t doublings = 0;
    for (std::int64_t m = n;; m /= 2, ++doublings) {
        torch::Tensor h = baseHadamard(m);
        if (h.defined()) {
            for (std::int64_t k = 0; k < doublings; ++k)
                h = torch::cat({torch::cat({h, h}, 1), torch::cat({h, -h}, 1)}, 0); // Sylvester
            return h / std::sqrt(static_cast<double>(n));
        }
        if (m % 2 != 0)
            return {};
    }
}

torch::Tensor randomOrthogonal(std::int64_t n, std::uint64_t seed)
{
    const auto [q, r] = torch::linalg_qr(gaussianMatrix(n, seed));
    // Signs of R's diagonal moved into Q: the distribution is then uniform (Haar).
    return q * torch::sign(r.diagonal()).unsqueeze(0);
}

OrthogonalMatrix randomHadamard(std::int64_t n, std::uint64_t seed)
{
    const torch::Tensor h = hadamardMatrix(n);
    if (!h.defined())
        return {randomOrthogonal(n, seed), "random orthogonal"};
    std::mt19937_64 engine(seed);
    torch::Tensor signs = torch::empty({n, 1}, torch::kFloat64);
    for (std::int64_t i = 0; i < n; ++i)
        signs[i][0] = (engine() >> 63) != 0 ? 1.0 : -1.0;
    return {signs * h, "random hadamard"};
}

OrthogonalMatrix onlineRotation(std::int64_t n)
{
    const torch::Tensor h = hadamardMatrix(n);
    if (h.defined())
        return {h, "hadamard"};
    return {randomOrthogonal(n, static_cast<std::uint64_t>(n)), "random orthogonal"};
}

double orthogonalityError(const torch::Tensor& rotation)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor r = rotation.to(torch::kFloat64);
    return (torch::matmul(r.t(), r) - torch::eye(r.size(1), torch::kFloat64)).norm().item<double>();
}

} // namespace core
