#include "jobs/export_job.h"

#include "io/model_config.h"
#include "io/tensor_io.h"
#include "jobs/finished_run.h"
#include "model/online_rotation.h"
#include "quant/activation_spec.h"
#include "quant/storage_bits.h"
#include "store/run_artifacts.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace core {
namespace {

namespace fs = std::filesystem;

// Tokenizer and generation files an HF loader looks for, copied when present.
const std::vector<std::string>& companionFiles()
{
    static const std::vector<std::string> names{
        "tokenizer.model", "tokenizer.json",          "tokenizer_config.json", "vocab.json",
        "merges.txt",      "special_tokens_map.json", "generation_config.json"};
    return names;
}

void prepareOutputDirectory(const std::string& outDir)
{
    if (fs::exists(outDir) && (!fs::is_directory(outDir) || !fs::is_empty(outDir)))
        throw Error("export: " + outDir + " exists and is not an empty directory");
    std::error_code error;
    fs::create_directories(outDir, error);
    if (error)
        throw Error("export: cannot create " + outDir + " (" + error.message() + ")");
}

// Checkpoints of some OPT models omit the leading "model." of the canonical names.
std::string canonicalLayerName(const std::string& tensorName, const std::vector<std::string>& layers)
{
    if (!tensorName.ends_with(".weight"))
        return {};
    const std::string base = tensorName.substr(0, tensorName.size() - 7);
    for (const std::string& candidate : {base, "model." + base})
        if (std::binary_search(layers.begin(), layers.end(), candidate))
            return candidate;
    return {};
}

nlohmann::json tensorToJson(const torch::Tensor& tensor)
{
    const torch::Tensor t = tensor.to(torch::kFloat64).contiguous();
    const double* data = t.data_ptr<double>();
    if (t.dim() == 1)
        return std::vector<double>(data, data + t.numel());
    nlohmann::json rows = nlohmann::json::array();
    for (std::int64_t r = 0; r < t.size(0); ++r)
        rows.push_back(std::vector<double>(data + r * t.size(1), data + (r + 1) * t.size(1)));
    return rows;
}

// What a consumer must apply at run time to reproduce the run's perplexities: the weights
// are in model.safetensors already; these are the dynamic activation and KV fake-quant.
nlohmann::json activationsToJson(const ActivationQuantSpec& a)
{
    return {{"bits", a.bits},
            {"quantized", a.enabled()},
            {"applies_to", "the input of every Linear of the decoder blocks (q/k/v, o, gate/up, down); not lm_head"},
            {"granularity", granularityName(a.granularity)},
            {"symmetric", a.symmetric},
            {"clip_ratio", a.clipRatio},
            {"formula", a.symmetric ? "s = clip * max|x| / (2^(bits-1) - 1); x' = s * clamp(round(x / s), "
                                      "-2^(bits-1), 2^(bits-1) - 1)"
                                    : "hi = clip * max(max x, 0), lo = clip * min(min x, 0), s = (hi - lo) / "
                                      "(2^bits - 1), z = round(-lo / s); x' = s * (clamp(round(x / s) + z, 0, "
                                      "2^bits - 1) - z)"},
            {"range", a.granularity == ActivationGranularity::PerToken ? "per token (each row of the input)"
                                                                       : "per tensor (each forward's input)"}};
}

nlohmann::json kvToJson(const KvQuantSpec& kv, const ModelConfig& model)
{
    return {{"bits", kv.bits},
            {"quantized", kv.enabled()},
            {"applies_to", "K after RoPE and V of every block, per (head, token), before attention"},
            {"group_size", kv.groupSize > 0 ? kv.groupSize : model.headDim},
            {"head_dim", model.headDim},
            {"symmetric", kv.symmetric},
            {"clip_ratio", kv.clipRatio}};
}

nlohmann::json layerToJson(const QuantizedLinear& stored)
{
    nlohmann::json layer{{"shape", {stored.rows(), stored.columns()}},
                         {"effective_bits", effectiveBitsPerWeight(stored)}};
    if (stored.isCodebook()) {
        // BiLLM: per row, tables of levels; each weight picks a table and a level in it.
        layer["form"] = "codebook";
        layer["levels_per_table"] = stored.levels.size(2);
        layer["table_columns"] = stored.tableColumns > 0 ? stored.tableColumns : stored.columns();
        layer["tables_per_run"] = stored.levels.size(1) / stored.tableRuns();
        layer["levels"] = tensorToJson(stored.levels.reshape({stored.rows(), -1})); // [rows, tables·levels]
    } else if (stored.isStructuredMask()) {
        // PTQ1.61: salient columns on the affine grid, the rest binarized (codes 0/1/2 = sign −1/0/+1).
        const torch::Tensor salient = stored.salientColumns.to(torch::kInt64).contiguous();
        layer["form"] = "structured_mask";
        layer["salient_bits"] = stored.spec.bits;
        layer["salient_columns"] = std::vector<std::int64_t>(salient.data_ptr<std::int64_t>(),
                                                             salient.data_ptr<std::int64_t>() + salient.numel());
        layer["scale"] = tensorToJson(stored.scale);
        layer["zero"] = tensorToJson(stored.zero);
        layer["binary_mean"] = tensorToJson(stored.binaryMean);
        layer["binary_scale"] = tensorToJson(stored.binaryScale);
        layer["row_scale"] = tensorToJson(stored.rowScale);
        layer["column_scale"] = tensorToJson(stored.columnScale);
    } else {
        layer["form"] = "affine";
        layer["groups"] = stored.groups();
        layer["scale"] = tensorToJson(stored.scale);
        layer["zero"] = tensorToJson(stored.zero);
        // Only act-order scatters columns over groups; contiguous groups need no index.
        if (stored.hasScatteredGroups())
            layer["group_index"] =
                std::vector<std::int64_t>(stored.groupIndex.data_ptr<std::int64_t>(),
                                          stored.groupIndex.data_ptr<std::int64_t>() + stored.groupIndex.numel());
        if (stored.statisticBits > 0)
            layer["statistics"] = {{"bits", stored.statisticBits}, {"group_rows", stored.statisticGroupSize}};
    }
    if (stored.outliers() > 0) {
        const torch::Tensor index = stored.outlierIndex.contiguous();
        layer["outliers"] = {{"count", stored.outliers()},
                             {"flat_index", std::vector<std::int64_t>(index.data_ptr<std::int64_t>(),
                                                                      index.data_ptr<std::int64_t>() + index.numel())},
                             {"value", tensorToJson(stored.outlierValue)}};
    }
    return layer;
}

// The folded tensors that are online rotations, by full name.
std::map<std::string, torch::Tensor> onlineRotationTensors(const std::map<std::string, torch::Tensor>& folded)
{
    std::map<std::string, torch::Tensor> online;
    for (const auto& [name, tensor] : folded)
        if (name.ends_with(kDownProjInputRotation) || name.ends_with(kQueryKeyRotation))
            online[name] = tensor;
    return online;
}

void writeConfig(const std::string& modelDir, const std::string& outDir)
{
    nlohmann::json config = nlohmann::json::parse(readTextFile((fs::path(modelDir) / "config.json").string()));
    config["torch_dtype"] = "float32"; // the dequantized weights are written in float32
    writeFileAtomically((fs::path(outDir) / "config.json").string(), config.dump(2) + "\n");
}

ExportResult exportInto(const Workspace& workspace, const FinishedRun& finished, const std::string& outDir,
                        const ProgressCallback& onProgress, const CancelToken& cancel)
{
    const RunRecord& run = finished.record;
    const RunConfig& config = finished.config;
    const std::int64_t runId = run.id;
    const ArtifactFile artifacts(workspace.artifactPath(runId), ArtifactMode::ReadOnly);
    std::vector<std::string> layers = quantizedLayerNames(artifacts);
    std::sort(layers.begin(), layers.end());

    const std::map<std::string, torch::Tensor> folded = readFoldedTensors(artifacts);
    const Checkpoint checkpoint(config.model);
    const std::vector<std::string> names = checkpoint.names();
    // A tensor the checkpoint has no place for (LRQuant's shifts give LLaMA norms and MLP
    // Linears biases) would be dropped by every loader: refuse before writing anything.
    const std::map<std::string, torch::Tensor> online = onlineRotationTensors(folded);
    for (const auto& [name, tensor] : folded)
        if (!online.count(name) && std::find(names.begin(), names.end(), name) == names.end())
            throw Error("export: run " + std::to_string(runId) + " adds " + name +
                        ", which a checkpoint of this model cannot hold (LRQuant's shifts add biases to LLaMA's "
                        "norms and Linears; calibrate with --set lrquant.shifts=false to export)");

    writeConfig(config.model, outDir);
    for (const auto& name : companionFiles())
        if (fs::exists(fs::path(config.model) / name))
            fs::copy_file(fs::path(config.model) / name, fs::path(outDir) / name);

    // Online rotations (model/online_rotation.h): a weight-only model folds them (the rotation
    // only changes the basis the weights were quantized in), so a plain HF model results; with
    // activation or KV quantization a runtime must apply them, so they are written beside the
    // weights they precede and listed in quantization.json.
    const bool foldOnline = !config.activations.enabled() && !config.kv.enabled();
    std::map<std::string, torch::Tensor> tensors;
    nlohmann::json quantizedLayers = nlohmann::json::object();
    double storedLinearBits = 0.0, storedLinearWeights = 0.0; // quant/storage_bits.h, for the model's effective bits
    ExportResult result;
    result.directory = outDir;
    for (std::size_t i = 0; i < names.size(); ++i) {
        cancel.throwIfCancelled();
        reportProgress(onProgress, {"export", static_cast<double>(i) / static_cast<double>(names.size()), names[i]});
        const std::string layer = canonicalLayerName(names[i], layers);
        if (layer.empty()) {
            const auto change = folded.find(names[i]);
            tensors[names[i]] = change != folded.end() ? change->second : loadFloat(checkpoint, names[i]);
            continue;
        }
        const QuantizedLinear stored = readQuantizedLinear(artifacts, layer);
        const auto& shape = checkpoint.info(names[i]).shape;
        if (shape != stored.codes.sizes().vec())
            throw Error("export: stored weights of " + layer + " do not match the model's shape");
        tensors[names[i]] = stored.dequantize();
        if (const auto rotation = online.find(layer + ".input_rotation"); rotation != online.end() && foldOnline)
            tensors[names[i]] = foldInputRotation(tensors[names[i]], rotation->second);
        quantizedLayers[layer] = layerToJson(stored);
        storedLinearBits += storedBits(stored);
        storedLinearWeights += static_cast<double>(stored.codes.numel());
        ++result.quantizedLayers;
    }
    if (result.quantizedLayers != static_cast<std::int64_t>(layers.size()))
        throw Error("export: run " + std::to_string(runId) + " stores layers the model does not have");
    nlohmann::json onlineRotations = nlohmann::json::object();
    if (!foldOnline)
        for (const auto& [name, tensor] : online) {
            tensors[name] = tensor;
            onlineRotations[name] = {{"shape", tensor.sizes().vec()},
                                     {"applies", name.ends_with(kQueryKeyRotation)
                                                     ? "Q and K of the block times this matrix after RoPE"
                                                     : "the Linear's input times this matrix"}};
        }
    result.tensors = static_cast<std::int64_t>(tensors.size());
    writeSafetensors((fs::path(outDir) / "model.safetensors").string(), tensors, StorageType::F32,
                     {{"format", "pt"}, {"quantscope_run", std::to_string(runId)}});

    // Version 2 (issue 15 §4): the activation and KV specs; version 1 had weights only.
    // Version 3 (issue 16): codebook layers, sparse outliers, quantized statistics and the
    // effective bits; version 2 added the activation and KV specs to version 1's weights.
    // Version 4 (issue 17): online_rotations, the fixed rotations a runtime applies (empty when
    // they were folded into the weights).
    nlohmann::json quantization{
        {"format", "quantscope-v4"},
        {"version", 4},
        {"formula", "affine: w = scale[row, group_index[col]] * (q - zero[row, group_index[col]]); "
                    "codebook: table = (col / table_columns) * tables_per_run + table_index[row, col], "
                    "w = levels[row, table * levels_per_table + q]; "
                    "outliers (row * cols + col) replace w"},
        {"effective_bits", storedLinearWeights > 0 ? storedLinearBits / storedLinearWeights : 0.0},
        {"run_id", runId},
        {"run_name", run.name},
        {"method", config.method},
        {"bits", config.weights.bits},
        {"group_size", config.weights.groupSize},
        {"symmetric", config.weights.symmetric},
        {"bits_label", bitsLabel(config.weights.bits, config.activations, config.kv)},
        {"activations", activationsToJson(config.activations)},
        {"kv_cache", kvToJson(config.kv, loadModelConfig(config.model))},
        {"source_model", config.model},
        {"source_fingerprint", run.modelFingerprint},
        {"online_rotations", onlineRotations},
        {"layers", quantizedLayers}};
    writeFileAtomically((fs::path(outDir) / "quantization.json").string(), quantization.dump(1) + "\n");
    reportProgress(onProgress, {"export", 1.0, "wrote " + outDir});
    return result;
}

} // namespace

ExportResult exportRun(const Workspace& workspace, std::int64_t runId, const std::string& outDir,
                       const ProgressCallback& onProgress, const CancelToken& cancel)
{
    const FinishedRun run = loadFinishedRun(workspace, runId, "export");
    prepareOutputDirectory(outDir);
    try {
        return exportInto(workspace, run, outDir, onProgress, cancel);
    } catch (...) {
        // Leave no half-written model behind that a tool could mistake for a good one.
        std::error_code ignored;
        fs::remove_all(outDir, ignored);
        throw;
    }
}

} // namespace core
