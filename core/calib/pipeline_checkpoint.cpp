#include "calib/pipeline_checkpoint.h"

#include "config/run_identity.h"
#include "model/global_tensors.h"
#include "model/weight_layout.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

namespace core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFormat = 1;
const char* const kCommitFile = "checkpoint.json";
const char* const kPreparedFile = "prepared.pt";

std::string blockFile(std::int64_t index)
{
    return "block_" + std::to_string(index) + ".pt";
}

std::string streamsFile(std::int64_t blocksDone)
{
    return "streams_" + std::to_string(blocksDone) + ".pt";
}

std::string methodStateFile(std::int64_t blocksDone)
{
    return "method_" + std::to_string(blocksDone) + ".pt";
}

// A tensor that owns exactly its elements: a view of a mapped checkpoint file (an untouched
// norm of a quantized block) would otherwise write the whole file's storage.
torch::Tensor compact(const torch::Tensor& tensor)
{
    if (tensor.is_contiguous() && tensor.storage_offset() == 0 &&
        tensor.storage().nbytes() == static_cast<std::size_t>(tensor.numel() * tensor.element_size()))
        return tensor;
    return tensor.contiguous().clone();
}

// Tensors of an archive, written under a temporary name and renamed: a file either is complete
// or does not exist under its name.
void writeArchive(const std::string& path, const std::map<std::string, torch::Tensor>& tensors)
{
    torch::serialize::OutputArchive archive;
    for (const auto& [name, tensor] : tensors)
        archive.write(name, compact(tensor));
    const std::string temporary = path + ".tmp";
    try {
        archive.save_to(temporary);
    } catch (const c10::Error& e) {
        throw Error("checkpoint " + path + ": cannot write (" + e.what_without_backtrace() + ")");
    }
    fs::rename(temporary, path);
}

std::map<std::string, torch::Tensor> readArchive(const std::string& path)
{
    if (!fs::is_regular_file(path))
        throw Error("checkpoint " + path +
                    ": missing (the checkpoint is incomplete; delete its directory to "
                    "start the run over)");
    std::map<std::string, torch::Tensor> tensors;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path);
        for (const std::string& key : archive.keys()) {
            torch::Tensor tensor;
            archive.read(key, tensor);
            tensors[key] = tensor;
        }
    } catch (const c10::Error& e) {
        throw Error("checkpoint " + path + ": unreadable (" + e.what_without_backtrace() + ")");
    }
    return tensors;
}

// Method state, block tensors and globals share one archive under these prefixes.
const std::string kMethodPrefix = "method/";
const std::string kGlobalPrefix = "globals/";

std::string blockKey(std::int64_t index, const std::string& name)
{
    return "block/" + std::to_string(index) + "/" + name;
}

std::map<std::string, torch::Tensor> withPrefix(const std::string& prefix,
                                                const std::map<std::string, torch::Tensor>& tensors)
{
    std::map<std::string, torch::Tensor> out;
    for (const auto& [name, tensor] : tensors)
        out[prefix + name] = tensor;
    return out;
}

std::map<std::string, torch::Tensor> takePrefix(const std::string& prefix,
                                                const std::map<std::string, torch::Tensor>& tensors)
{
    std::map<std::string, torch::Tensor> out;
    for (const auto& [name, tensor] : tensors)
        if (name.starts_with(prefix))
            out[name.substr(prefix.size())] = tensor;
    return out;
}

// Doubles as JSON numbers, NaN as null (JSON has none); nlohmann writes the shortest text
// that reads back to the same double, so the metrics are restored bit for bit.
json number(double value)
{
    return std::isfinite(value) ? json(value) : json(nullptr);
}

double numberOf(const json& value)
{
    return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

json layersJson(const std::vector<LayerMetrics>& layers)
{
    json rows = json::array();
    for (const LayerMetrics& layer : layers)
        rows.push_back({{"name", layer.name},
                        {"block", layer.block},
                        {"rel_error", number(layer.relativeError)},
                        {"sqnr_db", number(layer.sqnrDb)},
                        {"seconds", number(layer.seconds)},
                        {"effective_bits", number(layer.effectiveBits)},
                        {"weights", layer.weights}});
    return rows;
}

std::vector<LayerMetrics> layersOf(const json& rows)
{
    std::vector<LayerMetrics> layers;
    for (const json& row : rows) {
        LayerMetrics layer;
        layer.name = row.at("name").get<std::string>();
        layer.block = row.at("block").get<std::int64_t>();
        layer.relativeError = numberOf(row.at("rel_error"));
        layer.sqnrDb = numberOf(row.at("sqnr_db"));
        layer.seconds = numberOf(row.at("seconds"));
        layer.effectiveBits = numberOf(row.at("effective_bits"));
        layer.weights = row.at("weights").get<std::int64_t>();
        layers.push_back(std::move(layer));
    }
    return layers;
}

} // namespace

PipelineCheckpoint::PipelineCheckpoint(std::string directory, CheckpointIdentity identity)
    : m_directory(std::move(directory)), m_identity(std::move(identity))
{
}

std::string PipelineCheckpoint::path(const std::string& name) const
{
    return (fs::path(m_directory) / name).string();
}

bool PipelineCheckpoint::exists() const
{
    return fs::is_regular_file(path(kCommitFile));
}

namespace {

json readCommit(const std::string& file)
{
    json commit = json::parse(readTextFile(file), nullptr, false);
    if (commit.is_discarded() || !commit.is_object() || commit.value("format", 0) != kFormat)
        throw Error("checkpoint " + file + ": not a Quantscope checkpoint of format " + std::to_string(kFormat));
    return commit;
}

} // namespace

void PipelineCheckpoint::requireSameRun() const
{
    if (!exists())
        return;
    const json commit = readCommit(path(kCommitFile));
    const std::string where = "checkpoint " + m_directory;
    if (commit.value("content_hash", "") != m_identity.contentHash) {
        std::string changes;
        for (const std::string& change : changedConfigKeys(commit.value("config", "{}"), m_identity.configJson))
            changes += (changes.empty() ? "" : "; ") + change;
        throw Error(where + " belongs to another config (" + (changes.empty() ? "its content hash differs" : changes) +
                    "); refusing to resume");
    }
    if (commit.value("model_fingerprint", "") != m_identity.modelFingerprint)
        throw Error(where + ": the model changed since it was written (fingerprint " +
                    commit.value("model_fingerprint", "") + ", now " + m_identity.modelFingerprint +
                    "); refusing to resume");
    if (commit.value("calibration_text_fingerprint", "") != m_identity.calibrationTextFingerprint)
        throw Error(where + ": the calibration text changed since it was written (fingerprint " +
                    commit.value("calibration_text_fingerprint", "") + ", now " +
                    m_identity.calibrationTextFingerprint + "); refusing to resume");
}

std::int64_t PipelineCheckpoint::blocksDone() const
{
    return exists() ? readCommit(path(kCommitFile)).value("blocks_done", std::int64_t(0)) : 0;
}

void PipelineCheckpoint::commit(std::int64_t blocksDone, const std::vector<LayerMetrics>& layers,
                                const std::string& stateFile) const
{
    json methodFiles = json::object();
    for (const auto& [key, saved] : m_savedState)
        methodFiles[key] = saved.second;
    const json commit = {{"format", kFormat},
                         {"content_hash", m_identity.contentHash},
                         {"config", m_identity.configJson},
                         {"model_fingerprint", m_identity.modelFingerprint},
                         {"calibration_text_fingerprint", m_identity.calibrationTextFingerprint},
                         {"blocks_done", blocksDone},
                         {"state", stateFile},
                         {"method_state", methodFiles},
                         {"layers", layersJson(layers)}};
    writeFileAtomically(path(kCommitFile), commit.dump(1) + "\n");
}

void PipelineCheckpoint::savePrepared(const DecoderModel& model, const std::set<std::int64_t>& transformedBlocks,
                                      bool globalsReplaced, const std::map<std::string, torch::Tensor>& methodState)
{
    fs::create_directories(m_directory);
    std::map<std::string, torch::Tensor> tensors = withPrefix(kMethodPrefix, methodState);
    m_savedState.clear();
    for (const auto& [key, tensor] : methodState)
        m_savedState[key] = {tensor, kPreparedFile};
    for (const std::int64_t index : transformedBlocks)
        for (const auto& [name, tensor] : model.block(index).tensors)
            tensors[blockKey(index, name)] = tensor;
    if (globalsReplaced) {
        // Every global, so a tied head stays tied (withStoredGlobals checks the pair).
        const GlobalWeights& globals = model.globals();
        const std::map<std::string, torch::Tensor> named =
            changedGlobalTensors(model.config(), GlobalWeights{}, globals);
        for (const auto& [name, tensor] : named)
            tensors[kGlobalPrefix + name] = tensor;
    }
    writeArchive(path(kPreparedFile), tensors);
    commit(0, {}, kPreparedFile);
}

void PipelineCheckpoint::saveBlock(const DecoderModel& model, std::int64_t index, const torch::Tensor& fpStream,
                                   const torch::Tensor& quantizedStream,
                                   const std::map<std::string, torch::Tensor>& methodState,
                                   const std::vector<LayerMetrics>& layers)
{
    fs::create_directories(m_directory);
    writeArchive(path(blockFile(index)), model.block(index).tensors);
    writeArchive(path(streamsFile(index + 1)), {{"stream/fp", fpStream}, {"stream/quantized", quantizedStream}});
    // Method state that is still the tensor saved before stays in its file: one-shot OAC's
    // Hessians of later blocks are written once, not after every block (quadratic in depth).
    std::map<std::string, torch::Tensor> changed;
    std::map<std::string, std::pair<torch::Tensor, std::string>> saved;
    const std::string methodFile = methodStateFile(index + 1);
    for (const auto& [key, tensor] : methodState) {
        const auto before = m_savedState.find(key);
        if (before != m_savedState.end() && before->second.first.is_same(tensor)) {
            saved[key] = before->second;
        } else {
            changed[key] = tensor;
            saved[key] = {tensor, methodFile};
        }
    }
    if (!changed.empty())
        writeArchive(path(methodFile), withPrefix(kMethodPrefix, changed));
    std::set<std::string> before;
    for (const auto& [key, entry] : m_savedState)
        before.insert(entry.second);
    m_savedState = std::move(saved);
    commit(index + 1, layers, streamsFile(index + 1));
    // Files the commit record no longer names: the previous streams, method state now unused.
    fs::remove(path(streamsFile(index)));
    std::set<std::string> referenced;
    for (const auto& [key, entry] : m_savedState)
        referenced.insert(entry.second);
    for (const std::string& file : before)
        if (file != kPreparedFile && !referenced.count(file))
            fs::remove(path(file));
}

PipelineResumePoint PipelineCheckpoint::restore(DecoderModel& model)
{
    requireSameRun();
    if (!exists())
        throw Error("checkpoint " + m_directory + ": none to resume from");
    const json commit = readCommit(path(kCommitFile));
    PipelineResumePoint point;
    point.blocksDone = commit.at("blocks_done").get<std::int64_t>();
    try {
        point.layers = layersOf(commit.at("layers"));
    } catch (const json::exception& e) {
        throw Error("checkpoint " + path(kCommitFile) + ": damaged layer metrics (" + e.what() + ")");
    }
    if (point.blocksDone < 0 || point.blocksDone > model.numBlocks())
        throw Error("checkpoint " + m_directory + ": " + std::to_string(point.blocksDone) +
                    " blocks done, but the model has " + std::to_string(model.numBlocks()));

    // What prepareModel made, then every finished block over it.
    const auto prepared = readArchive(path(kPreparedFile));
    std::map<std::string, BlockWeights> transformed;
    for (const auto& [key, tensor] : takePrefix("block/", prepared)) {
        const std::size_t slash = key.find('/');
        transformed[key.substr(0, slash)].tensors[key.substr(slash + 1)] = tensor;
    }
    for (auto& [index, weights] : transformed)
        model.replaceBlock(std::stoll(index), std::move(weights));
    const auto globals = takePrefix(kGlobalPrefix, prepared);
    if (!globals.empty())
        model.replaceGlobals(withStoredGlobals(model.config(), model.globals(), globals));
    for (std::int64_t i = 0; i < point.blocksDone; ++i)
        model.replaceBlock(i, BlockWeights{readArchive(path(blockFile(i)))});

    const auto state = readArchive(path(commit.at("state").get<std::string>()));
    // The method state, from the files the commit record names (later saves keep what is unchanged).
    std::map<std::string, std::map<std::string, torch::Tensor>> methodFiles;
    m_savedState.clear();
    const json methodState = commit.value("method_state", json::object());
    for (const auto& [key, file] : methodState.items()) {
        const std::string name = file.get<std::string>();
        if (!methodFiles.count(name))
            methodFiles[name] = takePrefix(kMethodPrefix, name == kPreparedFile ? prepared : readArchive(path(name)));
        const auto found = methodFiles[name].find(key);
        if (found == methodFiles[name].end())
            throw Error("checkpoint " + path(name) + ": the method state '" + key + "' is missing");
        point.methodState[key] = found->second;
        m_savedState[key] = {found->second, name};
    }
    if (point.blocksDone > 0) {
        if (!state.count("stream/fp") || !state.count("stream/quantized"))
            throw Error("checkpoint " + path(commit.at("state").get<std::string>()) +
                        ": the activation streams are missing");
        point.fpStream = state.at("stream/fp");
        point.quantizedStream = state.at("stream/quantized");
    }
    return point;
}

void PipelineCheckpoint::remove() const
{
    // The commit record first: a kill part-way leaves no record naming deleted files.
    std::error_code ignored;
    fs::remove(path(kCommitFile), ignored);
    fs::remove_all(m_directory, ignored);
}

} // namespace core
