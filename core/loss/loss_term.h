#pragma once
// The loss terms a run config can name (torch-free, so configs and forms can use it).
// The functions themselves are in loss/reconstruction_loss.h.

#include <cstdint>
#include <string>
#include <vector>

namespace core {

enum class LossType {
    Mse,               ///< mean over every element of (pred − target)² (OmniQuant's nn.MSELoss)
    L2,                ///< mean over tokens of Σ_hidden (pred − target)² (TesseraQ's native loss)
    SlicedWasserstein, ///< SW between the token distributions (the SW alignment paper)
    Nlc,               ///< −log |mean cosine| (LRQuant)
    KlTop,             ///< KL over the FP model's top-k logits (OSTQuant)
};

/// One weighted term of a composite loss, with the options of its type.
struct LossTerm {
    LossType type = LossType::Mse;
    double weight = 1.0;
    std::int64_t projections = 128; ///< sw: directions per step
    int p = 1;                      ///< sw: 1 = mean |Δ| (the paper), 2 = mean Δ² (SW₂², no root)
    std::int64_t topK = 64;         ///< kl_top: logits kept per token
};

/// "mse", "l2", "sw", "nlc", "kl_top".
std::string lossTypeName(LossType type);
/// Throws core::Error listing the known names.
LossType lossTypeFromName(const std::string& name);
std::vector<std::string> lossTypeNames();

} // namespace core
