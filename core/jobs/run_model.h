#pragma once
// The model a finished run stored, rebuilt from its artifacts: the run's model with every Linear
// dequantized from its stored form and every tensor the method folded (norms, LET biases,
// rotations, replaced globals). What dump and adapt run.

#include "model/decoder_model.h"
#include "store/artifact_file.h"

namespace core {

/// Block `index` of the run: `fpModel`'s block with the run's Linears and folded tensors.
BlockWeights storedQuantizedBlock(const DecoderModel& fpModel, const ArtifactFile& artifacts, std::int64_t index);

/// Replaces the globals and every block of `model` (loaded from the run's model) by the run's.
void loadStoredModel(DecoderModel& model, const ArtifactFile& artifacts);

} // namespace core
