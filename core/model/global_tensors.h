#pragma once
// The global weights (embedding, final norm, head) as named tensors, so that a method that
// replaces one (a rotation of the residual stream) can store it with the run and every later
// reader (eval, dump, export) applies it over the checkpoint's.

#include "model/decoder_forward.h"

#include <map>
#include <string>

namespace core {

/// The tensors of `after` that are not the same tensors as in `before`, by checkpoint-canonical
/// name ("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"). Throws core::Error
/// when the model ties its head to the embedding and only one of the two changed.
std::map<std::string, torch::Tensor> changedGlobalTensors(const ModelConfig& config, const GlobalWeights& before,
                                                          const GlobalWeights& after);

/// `globals` with every tensor of `stored` (by the names above) put in place; other names are
/// ignored (they belong to blocks).
GlobalWeights withStoredGlobals(const ModelConfig& config, GlobalWeights globals,
                                const std::map<std::string, torch::Tensor>& stored);

} // namespace core
