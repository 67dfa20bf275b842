#pragma once
// Where a block's loss curve lives in artifacts.h5 (documented in the README):
//   /layers/<block>/loss   float64 [steps, terms + 1] (each term's unweighted value, then the
//                          weighted total); attributes terms ("mse,sw,total"), steps_per_epoch

#include "loss/loss_curve.h"
#include "store/artifact_file.h"

#include <optional>

namespace core {

void writeLossCurve(ArtifactFile& file, const std::string& block, const BlockLossCurve& curve);
/// std::nullopt when the block has no curve (methods that do not learn).
std::optional<BlockLossCurve> readLossCurve(const ArtifactFile& file, const std::string& block);

} // namespace core
