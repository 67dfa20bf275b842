#pragma once
// Orthogonal matrices for the rotation methods (QuaRot, SpinQuant, OSTQuant; METHODS.md §7.2):
// normalized Hadamard matrices where an order-n one can be built, random Hadamards
// (QuaRot's random_hadamard_matrix: random ±1 signs times a Hadamard), and random orthogonal
// matrices where no Hadamard of that order is known here. All float64, on the CPU, and drawn
// from std::mt19937_64 so that a seed gives the same matrix on every machine.

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace core {

/// H/√n [n, n] when a Hadamard matrix of order n can be built: Sylvester's doubling of 1 or of
/// a Paley (type I) matrix of order q + 1 for a prime q ≡ 3 (mod 4), e.g. 12, 20, 24, 44, and
/// those times 2^k (384 = 12·32; LLaMA-2's 11008 = 2·5504 with 5503 prime, where QuaRot uses a
/// hard-coded order-172 matrix times 64: a different Hadamard matrix, equally orthogonal). An
/// undefined tensor otherwise (172 itself, 6).
torch::Tensor hadamardMatrix(std::int64_t n);

/// An orthogonal matrix and how it was made ("hadamard", "random hadamard", "random orthogonal",
/// "klt"): run logs and exports record the kind, since a fallback changes the method.
struct OrthogonalMatrix {
    torch::Tensor matrix; ///< float64 [n, n]
    std::string kind;
};

/// diag(s)·H/√n with s uniform in {−1, +1} (QuaRot); a random orthogonal matrix (QR of a
/// Gaussian matrix, columns' signs fixed by R's diagonal) when hadamardMatrix(n) is undefined.
OrthogonalMatrix randomHadamard(std::int64_t n, std::uint64_t seed);

/// The QR-of-a-Gaussian orthogonal matrix alone.
torch::Tensor randomOrthogonal(std::int64_t n, std::uint64_t seed);

/// The fixed rotation of an online Hadamard of order n: hadamardMatrix(n), or where none is
/// known a random orthogonal matrix seeded by n (the same for every run and machine).
OrthogonalMatrix onlineRotation(std::int64_t n);

/// ‖RᵀR − I‖_F: how far R is from orthogonal (the rotation methods check it every step).
double orthogonalityError(const torch::Tensor& rotation);

} // namespace core
