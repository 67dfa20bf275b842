#include "quant/structured_mask.h"

#include "util/error.h"

namespace core {

torch::Tensor salientChannels(const torch::Tensor& statistic, double fraction, const std::string& layer)
{
    torch::NoGradGuard noGrad;
    if (!(fraction >= 0.0 && fraction < 1.0))
        throw Error(layer + ": the salient fraction must be in [0, 1), got " + std::to_string(fraction));
    if (statistic.dim() != 1 || statistic.numel() == 0)
        throw Error(layer + ": the channel statistic must be a non-empty vector (internal error)");
    const torch::Tensor a = statistic.to(torch::kFloat32).clamp_min(1e-5);
    if (!torch::isfinite(a).all().item<bool>())
        throw Error(layer + ": the input activations are not finite (NaN or inf), so no salient channels can be "
                            "chosen");
    const std::int64_t columns = a.numel();
    // int(0.2 · d_in) as Python truncates it, on the same double product.
    const auto position = static_cast<std::int64_t>(fraction * static_cast<double>(columns));
    const torch::Tensor sorted = std::get<0>(a.sort(/*dim=*/0, /*descending=*/true));
    return a >= sorted[position];
}

BinaryStatistics binaryStatistics(const torch::Tensor& weight, const torch::Tensor& salient)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor masked = weight * (~salient).to(weight.scalar_type()).unsqueeze(0);
    const torch::Tensor count = (masked != 0).sum(1).to(weight.scalar_type());
    // 0/0 for a row without non-salient non-zero weights: the authors' NaN → 0.
    BinaryStatistics statistics;
    statistics.mean = torch::nan_to_num(masked.sum(1) / count, 0.0, 0.0, 0.0);
    statistics.scale = torch::nan_to_num(masked.abs().sum(1) / count, 0.0, 0.0, 0.0);
    return statistics;
}

WeightQuantSpec salientPartSpec(int bits)
{
    return WeightQuantSpec{.bits = bits, .groupSize = -1, .symmetric = false, .dialect = QuantDialect::Gptq};
}

torch::Tensor binarizedPart(const torch::Tensor& signs, const torch::Tensor& mean, const torch::Tensor& scale,
                            const torch::Tensor& rowScale, const torch::Tensor& columnScale)
{
    const torch::Tensor rank1 = rowScale.unsqueeze(1) * columnScale.unsqueeze(0);
    return rank1 * (scale.unsqueeze(1) * signs + mean.unsqueeze(1));
}

torch::Tensor combineStructuredMask(const torch::Tensor& salient, const torch::Tensor& salientPart,
                                    const torch::Tensor& binaryPart)
{
    return torch::where(salient.unsqueeze(0), salientPart, binaryPart);
}

QuantizedLinear structuredMaskStored(const torch::Tensor& weight, const torch::Tensor& salient, int salientBits,
                                     const BinaryStatistics& statistics, const torch::Tensor& rowScale,
                                     const torch::Tensor& columnScale, const std::string& layer)
{
    torch::NoGradGuard noGrad;
    const WeightQuantSpec spec = salientPartSpec(salientBits);
    const QuantGrid grid = fitQuantGrid(weight, spec);
    QuantizedLinear stored = encodeOnGrid(fakeQuantize(weight, grid, spec.groupSize), grid.scale, grid.zero,
                                          contiguousGroupIndex(weight.size(1), -1), spec, layer);
    const torch::Tensor signCodes = (torch::sign(weight - statistics.mean.unsqueeze(1)) + 1.0).to(torch::kUInt8);
    stored.codes = torch::where(salient.unsqueeze(0), stored.codes, signCodes).contiguous();
    stored.salientColumns = salient.to(torch::kBool).contiguous();
    stored.binaryMean = statistics.mean.detach().to(torch::kFloat32).contiguous();
    stored.binaryScale = statistics.scale.detach().to(torch::kFloat32).contiguous();
    stored.rowScale = rowScale.detach().to(torch::kFloat32).contiguous();
    stored.columnScale = columnScale.detach().to(torch::kFloat32).contiguous();
    stored.methodBits =
        structuredMaskBits(stored.rows(), stored.columns(), salient.sum().item<std::int64_t>(), salientBits);
    return stored;
}

double structuredMaskBits(std::int64_t rows, std::int64_t columns, std::int64_t salientColumns, int salientBits)
{
    const double r = static_cast<double>(rows), c = static_cast<double>(columns);
    const double k = static_cast<double>(salientColumns), b = salientBits;
    const double codes = r * (k * b + (c - k));
    const double mask = c;
    const double perRow = r * (4.0 * 16.0 + b);
    const double perBinarizedColumn = (c - k) * 16.0;
    return codes + mask + perRow + perBinarizedColumn;
}

} // namespace core
