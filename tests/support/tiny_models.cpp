#include "tiny_models.h"

#include "io/sentencepiece_library.h"
#include "model/weight_layout.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <random>
#include <stdexcept>

namespace testsupport {
namespace {

torch::Tensor storedValues(const torch::Tensor& t, core::StorageType storage)
{
    switch (storage) {
    case core::StorageType::F16: return t.to(torch::kFloat16).to(torch::kFloat32);
    case core::StorageType::BF16: return t.to(torch::kBFloat16).to(torch::kFloat32);
    default: return t;
    }
}

} // namespace

std::string tinyConfigJson(const TinyModelSpec& s)
{
    nlohmann::json config;
    if (s.family == core::ModelFamily::Llama) {
        config = {{"model_type", "llama"},
                  {"architectures", {"LlamaForCausalLM"}},
                  {"hidden_size", s.hidden},
                  {"intermediate_size", s.intermediate},
                  {"num_hidden_layers", s.layers},
                  {"num_attention_heads", s.heads},
                  {"num_key_value_heads", s.kvHeads},
                  {"vocab_size", s.vocab},
                  {"max_position_embeddings", s.maxPositions},
                  {"rms_norm_eps", 1e-5},
                  {"rope_theta", 10000.0},
                  {"hidden_act", "silu"},
                  {"attention_bias", s.bias},
                  {"tie_word_embeddings", s.tied},
                  {"bos_token_id", 1},
                  {"eos_token_id", 2}};
    } else {
        config = {{"model_type", "opt"},
                  {"architectures", {"OPTForCausalLM"}},
                  {"hidden_size", s.hidden},
                  {"ffn_dim", s.intermediate},
                  {"num_hidden_layers", s.layers},
                  {"num_attention_heads", s.heads},
                  {"vocab_size", s.vocab},
                  {"max_position_embeddings", s.maxPositions},
                  {"word_embed_proj_dim", s.hidden},
                  {"do_layer_norm_before", true},
                  {"activation_function", "relu"},
                  {"enable_bias", true},
                  {"tie_word_embeddings", s.tied},
                  {"bos_token_id", 2},
                  {"eos_token_id", 2}};
    }
    return config.dump(2);
}

std::map<std::string, torch::Tensor> writeTinyModel(const std::string& dir, const TinyModelSpec& spec)
{
    std::filesystem::create_directories(dir);
    core::writeFileAtomically(dir + "/config.json", tinyConfigJson(spec));
    const core::ModelConfig config = core::parseModelConfig(tinyConfigJson(spec), "tiny config");

    torch::manual_seed(spec.seed);
    std::map<std::string, torch::Tensor> tensors;
    auto make = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
        const bool isNormWeight = name.find("norm") != std::string::npos && name.size() > 7 &&
                                  name.compare(name.size() - 7, 7, ".weight") == 0;
        torch::Tensor t = isNormWeight ? 1.0 + 0.1 * torch::randn(shape) : spec.weightScale * torch::randn(shape);
        tensors[name] = storedValues(t, spec.storage);
    };
    for (const auto& s : core::globalTensorSpecs(config))
        make(s.name, s.shape);
    for (std::int64_t i = 0; i < config.numLayers; ++i)
        for (const auto& s : core::blockTensorSpecs(config))
            make(core::blockPrefix(config, i) + s.name, s.shape);

    if (spec.shards <= 1) {
        core::writeSafetensors(dir + "/model.safetensors", tensors, spec.storage);
        return tensors;
    }
    std::vector<std::map<std::string, torch::Tensor>> parts(static_cast<std::size_t>(spec.shards));
    nlohmann::json weightMap = nlohmann::json::object();
    std::size_t index = 0;
    for (const auto& [name, tensor] : tensors) {
        const std::size_t shard = index++ % parts.size();
        parts[shard][name] = tensor;
        weightMap[name] = "model-0000" + std::to_string(shard + 1) + "-of-0000" + std::to_string(parts.size()) +
                          ".safetensors";
    }
    for (std::size_t shard = 0; shard < parts.size(); ++shard)
        core::writeSafetensors(dir + "/model-0000" + std::to_string(shard + 1) + "-of-0000" +
                                   std::to_string(parts.size()) + ".safetensors",
                               parts[shard], spec.storage);
    core::writeFileAtomically(dir + "/model.safetensors.index.json",
                              nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weightMap}}.dump(2));
    return tensors;
}

std::int64_t writeByteLevelTokenizer(const std::string& dir)
{
    std::filesystem::create_directories(dir);
    nlohmann::json vocab = nlohmann::json::object();
    std::int64_t next = 0;
    for (const char* special : {"<s>", "<pad>", "</s>", "<unk>"})
        vocab[special] = next++;
    // GPT-2's byte → printable-character table, rebuilt independently of the tokenizer under test.
    int shifted = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const int cp = printable ? b : shifted++;
        std::string utf8;
        if (cp < 0x80) {
            utf8 += static_cast<char>(cp);
        } else {
            utf8 += static_cast<char>(0xC0 | (cp >> 6));
            utf8 += static_cast<char>(0x80 | (cp & 0x3F));
        }
        vocab[utf8] = next++;
    }
    for (const char* merged : {"Ġt", "he", "Ġthe", "Ġa"})
        vocab[merged] = next++;
    core::writeFileAtomically(dir + "/vocab.json", vocab.dump());
    core::writeFileAtomically(dir + "/merges.txt", "#version: 0.2\nĠ t\nh e\nĠt he\nĠ a\n");
    return next;
}

void writeSentencePieceTokenizer(const std::string& dir, const std::string& corpus, int vocabSize)
{
    std::filesystem::create_directories(dir);
    const std::string corpusPath = dir + "/corpus.txt";
    core::writeFileAtomically(corpusPath, corpus);
    const std::string args = "--input=" + corpusPath + " --model_prefix=" + dir +
                             "/tokenizer --model_type=bpe --vocab_size=" + std::to_string(vocabSize) +
                             " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --character_coverage=1.0"
                             " --byte_fallback=false --minloglevel=2 --num_threads=1";
    core::trainSentencePiece(args);
    std::filesystem::remove(corpusPath);
    std::filesystem::remove(dir + "/tokenizer.vocab");
}

std::string sampleEnglishText()
{
    return "The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.\n"
           "In the beginning the county grand jury said the election produced no evidence of irregularities.\n"
           "A small model reads the text and predicts the next token; the perplexity measures how surprised it is.\n"
           "Researchers quantize the weights of large language models to four, three, two or even one bit.\n"
           "The jury further said in term-end presentments that the city executive committee deserves praise.\n"
           "Numbers such as 1961, 3.14 and 42 appear in the text, as do names like Atlanta and Fulton County.\n";
}

std::string makeTempDir(const std::string& tag)
{
    static std::mt19937_64 generator{std::random_device{}()};
    const auto path = std::filesystem::temp_directory_path() /
                      ("quantscope-" + tag + "-" + std::to_string(generator() % 1000000000ull));
    std::filesystem::create_directories(path);
    return path.string();
}

} // namespace testsupport
