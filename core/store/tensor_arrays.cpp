#include "store/tensor_arrays.h"

namespace core {
namespace {

template <typename T>
Array<T> toArray(const torch::Tensor& tensor, torch::ScalarType type)
{
    const torch::Tensor contiguous = tensor.detach().to(torch::kCPU).to(type).contiguous();
    Array<T> array;
    array.shape = contiguous.sizes().vec();
    array.values.assign(contiguous.data_ptr<T>(), contiguous.data_ptr<T>() + contiguous.numel());
    return array;
}

template <typename T>
torch::Tensor fromArray(const Array<T>& array, torch::ScalarType type)
{
    return torch::from_blob(const_cast<T*>(array.values.data()), array.shape, type).clone();
}

} // namespace

FloatArray toFloatArray(const torch::Tensor& tensor) { return toArray<float>(tensor, torch::kFloat32); }
DoubleArray toDoubleArray(const torch::Tensor& tensor) { return toArray<double>(tensor, torch::kFloat64); }
Int64Array toInt64Array(const torch::Tensor& tensor) { return toArray<std::int64_t>(tensor, torch::kInt64); }
ByteArray toByteArray(const torch::Tensor& tensor) { return toArray<std::uint8_t>(tensor, torch::kUInt8); }

torch::Tensor tensorFrom(const FloatArray& array) { return fromArray(array, torch::kFloat32); }
torch::Tensor tensorFrom(const DoubleArray& array) { return fromArray(array, torch::kFloat64); }
torch::Tensor tensorFrom(const Int64Array& array) { return fromArray(array, torch::kInt64); }
torch::Tensor tensorFrom(const ByteArray& array) { return fromArray(array, torch::kUInt8); }

} // namespace core
