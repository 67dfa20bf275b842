#include "quant/quantized_linear.h"

#include "quant/structured_mask.h"
#include "util/error.h"

namespace core {

torch::Tensor QuantizedLinear::dequantize() const
{
    torch::NoGradGuard noGrad;
    torch::Tensor weights;
    if (isCodebook()) {
        const std::int64_t levelsPerTable = levels.size(2);
        const torch::Tensor flat = levels.reshape({levels.size(0), -1});
        torch::Tensor table = tableIndex.to(torch::kInt64);
        if (tableColumns > 0) {
            const torch::Tensor run = torch::arange(columns(), torch::kInt64).div(tableColumns, "floor");
            table = table + (run * (levels.size(1) / tableRuns())).unsqueeze(0);
        }
        const torch::Tensor position = table * levelsPerTable + codes.to(torch::kInt64);
        weights = flat.gather(1, position);
    } else {
        // Same operations, in the same order, as fakeQuantize: scale · (q − zero).
        const torch::Tensor s = scale.index_select(1, groupIndex);
        const torch::Tensor z = zero.index_select(1, groupIndex);
        weights = s * (codes.to(torch::kFloat32) - z);
        if (isStructuredMask()) {
            const torch::Tensor signs = codes.to(torch::kFloat32) - 1.0;
            weights = combineStructuredMask(salientColumns, weights,
                                            binarizedPart(signs, binaryMean, binaryScale, rowScale, columnScale));
        }
    }
    if (outliers() > 0)
        weights.view({-1}).index_copy_(0, outlierIndex, outlierValue.to(torch::kFloat32));
    return weights;
}

bool QuantizedLinear::hasScatteredGroups() const
{
    return groupIndex.defined() && !torch::equal(groupIndex, contiguousGroupIndex(columns(), spec.groupSize));
}

torch::Tensor contiguousGroupIndex(std::int64_t columns, std::int64_t groupSize)
{
    if (groupSize <= 0)
        return torch::zeros({columns}, torch::kInt64);
    return torch::arange(columns, torch::kInt64).div(groupSize, "floor");
}

QuantizedLinear encodeOnGrid(const torch::Tensor& dequantized, const torch::Tensor& scale, const torch::Tensor& zero,
                             const torch::Tensor& groupIndex, const WeightQuantSpec& spec, const std::string& layer)
{
    torch::NoGradGuard noGrad;
    QuantizedLinear stored;
    stored.spec = spec;
    stored.scale = scale.to(torch::kFloat32).contiguous();
    stored.zero = zero.to(torch::kFloat32).contiguous();
    stored.groupIndex = groupIndex.to(torch::kInt64).contiguous();
    const double maxq = (1 << spec.bits) - 1;
    const torch::Tensor s = stored.scale.index_select(1, stored.groupIndex);
    const torch::Tensor z = stored.zero.index_select(1, stored.groupIndex);
    // w = s·(q − z) exactly, so w/s + z is q up to rounding error far below 0.5.
    const torch::Tensor q = torch::round(dequantized.to(torch::kFloat32) / s + z).clamp(0.0, maxq);
    stored.codes = q.to(torch::kUInt8);
    if (!torch::equal(stored.dequantize(), dequantized.to(torch::kFloat32)))
        throw Error(layer + ": quantized weights are not on their grid (internal error)");
    return stored;
}

QuantizedLinear quantizeRtnStored(const torch::Tensor& weight, const WeightQuantSpec& spec)
{
    torch::NoGradGuard noGrad;
    const QuantGrid grid = fitQuantGrid(weight, spec);
    const torch::Tensor groupIndex = contiguousGroupIndex(weight.size(1), spec.groupSize);
    const torch::Tensor s = grid.scale.index_select(1, groupIndex);
    const torch::Tensor z = grid.zero.index_select(1, groupIndex);
    QuantizedLinear stored;
    stored.spec = spec;
    stored.scale = grid.scale.contiguous();
    stored.zero = grid.zero.contiguous();
    stored.groupIndex = groupIndex;
    stored.codes = torch::clamp(torch::round(weight.to(torch::kFloat32) / s) + z, 0.0, grid.maxq).to(torch::kUInt8);
    return stored;
}

} // namespace core
