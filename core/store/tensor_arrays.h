#pragma once
// Conversions between tensors and the plain arrays ArtifactFile stores.

#include "store/artifact_file.h"

#include <torch/torch.h>

namespace core {

FloatArray toFloatArray(const torch::Tensor& tensor);   ///< any dtype → float32, contiguous copy
DoubleArray toDoubleArray(const torch::Tensor& tensor);
Int64Array toInt64Array(const torch::Tensor& tensor);
ByteArray toByteArray(const torch::Tensor& tensor);

torch::Tensor tensorFrom(const FloatArray& array);       ///< float32 tensor of the array's shape (a copy)
torch::Tensor tensorFrom(const DoubleArray& array);
torch::Tensor tensorFrom(const Int64Array& array);
torch::Tensor tensorFrom(const ByteArray& array);

} // namespace core
