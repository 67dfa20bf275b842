#pragma once
// The optimizer of OSTQuant's transforms (METHODS.md §7.3): geoopt's RiemannianAdam with two
// parameter groups. Rotations live on the Stiefel manifold with geoopt's default, canonical
// metric (geoopt/manifolds/stiefel.py `CanonicalStiefel`, optim/radam.py):
//   X ← projx(X) = U·Vᵀ of X's SVD                       (every step, before the update)
//   G ← G − X·Gᵀ·X                                       (Riemannian gradient, canonical metric)
//   m ← β₁ m + (1 − β₁) G,  v ← β₂ v + (1 − β₂) G⊙G
//   U = −lr · (m / (1 − β₁ᵗ)) / (sqrt(v / (1 − β₂ᵗ)) + ε)
//   A = U·Xᵀ − X·Uᵀ; [X, m] ← (I − A/2)⁻¹ (I + A/2) [X, m]   (Cayley retraction, m transported)
// and, every `stabilize` steps, X ← projx(X), m ← m − X·mᵀ·X. Scalings are Euclidean: plain
// Adam in the same form. Weight decay 0 (the authors' setting).

#include <torch/torch.h>

#include <vector>

namespace core {

struct RiemannianAdamOptions {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    int stabilize = 10; ///< geoopt's `stabilize`, the authors' 10; 0 = never
};

class RiemannianAdam {
public:
    /// `rotations`: square [n, n] or batched [b, n, n] orthogonal leaves; `euclidean`: any leaves.
    RiemannianAdam(std::vector<torch::Tensor> rotations, std::vector<torch::Tensor> euclidean,
                   RiemannianAdamOptions options = {});
    /// One step from the parameters' .grad with these learning rates (a schedule sets them).
    void step(double rotationLr, double euclideanLr);

private:
    struct State {
        torch::Tensor exp_avg;
        torch::Tensor exp_avg_sq;
    };
    void stepRotation(torch::Tensor& x, State& state, double lr);
    void stepEuclidean(torch::Tensor& x, State& state, double lr);

    std::vector<torch::Tensor> m_rotations, m_euclidean;
    std::vector<State> m_rotationState, m_euclideanState;
    RiemannianAdamOptions m_options;
    std::int64_t m_step = 0;
};

/// U·Vᵀ of the SVD of each [n, n] matrix: the nearest orthogonal matrix (geoopt's projx).
torch::Tensor projectToOrthogonal(const torch::Tensor& x);

/// Clips the gradients of `parameters` to a total L2 norm of `maxNorm` as
/// torch.nn.utils.clip_grad_norm_ does (HF Trainer's max_grad_norm); returns the norm before.
double clipGradientNorm(const std::vector<torch::Tensor>& parameters, double maxNorm);

} // namespace core
