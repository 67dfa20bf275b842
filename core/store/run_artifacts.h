#pragma once
// Where a run's arrays live inside runs/<id>/artifacts.h5, and their conversion
// from and to tensors. The layout (documented in the README):
//   /calibration/offsets            int64 [samples]; attributes seq_len, seed, text, text_fingerprint
//   /layers/<layer>/quant/codes     uint8 [rows, cols]
//   /layers/<layer>/quant/scale     float32 [rows, groups]
//   /layers/<layer>/quant/zero      float32 [rows, groups]
//   /layers/<layer>/quant/group_index int64 [cols]; attributes bits, group_size, symmetric on .../quant
//   /folded/<tensor name>           float32: a non-Linear tensor the method changed (LET folds its
//                                   scales into the norms), e.g. /folded/model.layers.3.input_layernorm.weight

#include "quant/quantized_linear.h"
#include "store/artifact_file.h"

#include <map>
#include <string>
#include <vector>

namespace core {

struct CalibrationRecord {
    std::vector<std::int64_t> offsets; ///< first token of each window in the tokenized text (with BOS)
    std::int64_t seqLen = 0;
    std::uint64_t seed = 0;
    std::string textPath;
    std::string textFingerprint;
};

void writeCalibrationRecord(ArtifactFile& file, const CalibrationRecord& record);
CalibrationRecord readCalibrationRecord(const ArtifactFile& file);

/// "/layers/<layer>/quant": the group of a Linear's stored form.
std::string quantizedLinearGroup(const std::string& layer);
void writeQuantizedLinear(ArtifactFile& file, const std::string& layer, const QuantizedLinear& stored);
/// Throws core::Error naming the file and layer when it is missing or inconsistent.
QuantizedLinear readQuantizedLinear(const ArtifactFile& file, const std::string& layer);
void writeFoldedTensor(ArtifactFile& file, const std::string& tensorName, const torch::Tensor& value);
/// Every folded tensor of the run by full tensor name (empty when the method folded nothing).
std::map<std::string, torch::Tensor> readFoldedTensors(const ArtifactFile& file);

/// Layers that have a stored quantized form, sorted by name.
std::vector<std::string> quantizedLayerNames(const ArtifactFile& file);

} // namespace core
