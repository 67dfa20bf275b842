#include "store/run_artifacts.h"

#include "store/tensor_arrays.h"
#include "util/error.h"

#include <cmath>

namespace core {
std::string quantizedLinearGroup(const std::string& layer)
{
    return "/layers/" + layer + "/quant";
}

void writeCalibrationRecord(ArtifactFile& file, const CalibrationRecord& record)
{
    Int64Array offsets;
    offsets.shape = {static_cast<std::int64_t>(record.offsets.size())};
    offsets.values = record.offsets;
    file.write("/calibration/offsets", offsets);
    file.setAttribute("/calibration/offsets", "seq_len", record.seqLen);
    file.setAttribute("/calibration/offsets", "seed", static_cast<std::int64_t>(record.seed));
    file.setAttribute("/calibration/offsets", "text", record.textPath);
    file.setAttribute("/calibration/offsets", "text_fingerprint", record.textFingerprint);
}

CalibrationRecord readCalibrationRecord(const ArtifactFile& file)
{
    CalibrationRecord record;
    record.offsets = file.readInt64("/calibration/offsets").values;
    record.seqLen = file.int64Attribute("/calibration/offsets", "seq_len");
    record.seed = static_cast<std::uint64_t>(file.int64Attribute("/calibration/offsets", "seed"));
    record.textPath = file.stringAttribute("/calibration/offsets", "text");
    record.textFingerprint = file.stringAttribute("/calibration/offsets", "text_fingerprint");
    return record;
}

void writeQuantizedLinear(ArtifactFile& file, const std::string& layer, const QuantizedLinear& stored)
{
    const std::string group = quantizedLinearGroup(layer);
    file.write(group + "/codes", toByteArray(stored.codes));
    if (!stored.isCodebook()) {
        file.write(group + "/scale", toFloatArray(stored.scale));
        file.write(group + "/zero", toFloatArray(stored.zero));
        file.write(group + "/group_index", toInt64Array(stored.groupIndex));
    }
    file.setAttribute(group, "bits", static_cast<std::int64_t>(stored.spec.bits));
    file.setAttribute(group, "group_size", stored.spec.groupSize);
    file.setAttribute(group, "symmetric", static_cast<std::int64_t>(stored.spec.symmetric ? 1 : 0));
    file.setAttribute(group, "dialect", dialectName(stored.spec.dialect));
    if (stored.statisticBits > 0) {
        file.setAttribute(group, "statistic_bits", static_cast<std::int64_t>(stored.statisticBits));
        file.setAttribute(group, "statistic_group_size", stored.statisticGroupSize);
    }
    if (stored.outliers() > 0) {
        file.write(group + "/outlier_index", toInt64Array(stored.outlierIndex));
        file.write(group + "/outlier_value", toFloatArray(stored.outlierValue));
    }
    if (stored.isCodebook()) {
        file.write(group + "/levels", toFloatArray(stored.levels));
        file.write(group + "/table_index", toByteArray(stored.tableIndex));
        file.setAttribute(group, "table_columns", stored.tableColumns);
    }
    if (stored.isStructuredMask()) {
        file.write(group + "/salient_columns", toByteArray(stored.salientColumns.to(torch::kUInt8)));
        file.write(group + "/binary_mean", toFloatArray(stored.binaryMean));
        file.write(group + "/binary_scale", toFloatArray(stored.binaryScale));
        file.write(group + "/row_scale", toFloatArray(stored.rowScale));
        file.write(group + "/column_scale", toFloatArray(stored.columnScale));
    }
    if (!std::isnan(stored.methodBits))
        file.setAttribute(group, "method_bits", stored.methodBits);
}

QuantizedLinear readQuantizedLinear(const ArtifactFile& file, const std::string& layer)
{
    const std::string group = quantizedLinearGroup(layer);
    if (!file.exists(group + "/codes"))
        throw Error(file.path() + ": no quantized weights for layer " + layer);
    QuantizedLinear stored;
    stored.spec.bits = static_cast<int>(file.int64Attribute(group, "bits"));
    stored.spec.groupSize = file.int64Attribute(group, "group_size");
    stored.spec.symmetric = file.int64Attribute(group, "symmetric") != 0;
    stored.spec.dialect = file.stringAttribute(group, "dialect") == dialectName(QuantDialect::OmniQuant)
                              ? QuantDialect::OmniQuant
                              : QuantDialect::Gptq;
    stored.codes = tensorFrom(file.readBytes(group + "/codes"));
    if (file.hasAttribute(group, "statistic_bits")) {
        stored.statisticBits = static_cast<int>(file.int64Attribute(group, "statistic_bits"));
        stored.statisticGroupSize = file.int64Attribute(group, "statistic_group_size");
    }
    if (file.exists(group + "/outlier_index")) {
        stored.outlierIndex = tensorFrom(file.readInt64(group + "/outlier_index"));
        stored.outlierValue = tensorFrom(file.readFloat(group + "/outlier_value"));
    }
    if (file.exists(group + "/levels")) {
        stored.levels = tensorFrom(file.readFloat(group + "/levels"));
        stored.tableIndex = tensorFrom(file.readBytes(group + "/table_index"));
        if (file.hasAttribute(group, "table_columns"))
            stored.tableColumns = file.int64Attribute(group, "table_columns");
    } else {
        stored.scale = tensorFrom(file.readFloat(group + "/scale"));
        stored.zero = tensorFrom(file.readFloat(group + "/zero"));
        stored.groupIndex = tensorFrom(file.readInt64(group + "/group_index"));
    }
    if (file.exists(group + "/salient_columns")) {
        stored.salientColumns = tensorFrom(file.readBytes(group + "/salient_columns")).to(torch::kBool);
        stored.binaryMean = tensorFrom(file.readFloat(group + "/binary_mean"));
        stored.binaryScale = tensorFrom(file.readFloat(group + "/binary_scale"));
        stored.rowScale = tensorFrom(file.readFloat(group + "/row_scale"));
        stored.columnScale = tensorFrom(file.readFloat(group + "/column_scale"));
    }
    if (file.hasAttribute(group, "method_bits"))
        stored.methodBits = file.doubleAttribute(group, "method_bits");
    const bool outliersConsistent =
        stored.outliers() == 0 ||
        (stored.outlierIndex.dim() == 1 && stored.outlierValue.sizes() == stored.outlierIndex.sizes() &&
         stored.outlierIndex.min().item<std::int64_t>() >= 0 &&
         stored.outlierIndex.max().item<std::int64_t>() < stored.codes.numel());
    const bool codebookConsistent =
        !stored.isCodebook() ||
        (stored.levels.dim() == 3 && stored.levels.size(0) == stored.codes.size(0) &&
         stored.tableIndex.sizes() == stored.codes.sizes() && stored.tableColumns >= 0 &&
         stored.levels.size(1) % stored.tableRuns() == 0 &&
         stored.tableIndex.max().item<std::int64_t>() < stored.levels.size(1) / stored.tableRuns() &&
         stored.codes.max().item<std::int64_t>() < stored.levels.size(2));
    const auto isVector = [](const torch::Tensor& t, std::int64_t n) { return t.dim() == 1 && t.size(0) == n; };
    const bool maskConsistent =
        !stored.isStructuredMask() ||
        (stored.codes.dim() == 2 && isVector(stored.salientColumns, stored.codes.size(1)) &&
         isVector(stored.columnScale, stored.codes.size(1)) && isVector(stored.binaryMean, stored.codes.size(0)) &&
         isVector(stored.binaryScale, stored.codes.size(0)) && isVector(stored.rowScale, stored.codes.size(0)) &&
         (stored.codes.numel() == 0 ||
          torch::where(stored.salientColumns.unsqueeze(0), torch::zeros_like(stored.codes), stored.codes)
                  .max()
                  .item<std::int64_t>() <= 2));
    if (!outliersConsistent || !codebookConsistent || !maskConsistent)
        throw Error(file.path() + ": quantized weights of layer " + layer +
                    " have inconsistent outliers, levels or mask");
    const bool consistent = stored.isCodebook()
                                ? stored.codes.dim() == 2
                                : stored.codes.dim() == 2 && stored.scale.dim() == 2 &&
                                      stored.zero.sizes() == stored.scale.sizes() &&
                                      stored.scale.size(0) == stored.codes.size(0) && stored.groupIndex.dim() == 1 &&
                                      stored.groupIndex.size(0) == stored.codes.size(1) &&
                                      (stored.groupIndex.numel() == 0 ||
                                       (stored.groupIndex.min().item<std::int64_t>() >= 0 &&
                                        stored.groupIndex.max().item<std::int64_t>() < stored.scale.size(1)));
    if (!consistent)
        throw Error(file.path() + ": quantized weights of layer " + layer + " have inconsistent shapes");
    return stored;
}

void writeFoldedTensor(ArtifactFile& file, const std::string& tensorName, const torch::Tensor& value)
{
    file.write("/folded/" + tensorName, toFloatArray(value));
}

std::map<std::string, torch::Tensor> readFoldedTensors(const ArtifactFile& file)
{
    std::map<std::string, torch::Tensor> tensors;
    if (!file.exists("/folded"))
        return tensors;
    for (const auto& name : file.children("/folded"))
        tensors[name] = tensorFrom(file.readFloat("/folded/" + name));
    return tensors;
}

std::vector<std::string> quantizedLayerNames(const ArtifactFile& file)
{
    std::vector<std::string> names;
    if (!file.exists("/layers"))
        return names;
    for (const auto& layer : file.children("/layers"))
        if (file.exists(quantizedLinearGroup(layer) + "/codes"))
            names.push_back(layer);
    return names;
}

} // namespace core
