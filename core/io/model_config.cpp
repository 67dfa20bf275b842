#include "io/model_config.h"

#include "util/error.h"
#include "util/strict_json.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace core {
namespace {

class ConfigReader {
public:
    ConfigReader(const nlohmann::json& json, std::string where) : m_json(json), m_where(std::move(where)) {}

    std::int64_t positiveInt(const std::string& key) const
    {
        if (!m_json.contains(key) || m_json[key].is_null())
            throw Error(m_where + ": missing key '" + key + "'");
        return checkPositive(key, m_json[key]);
    }
    std::int64_t positiveInt(const std::string& key, std::int64_t fallback) const
    {
        if (!m_json.contains(key) || m_json[key].is_null())
            return fallback;
        return checkPositive(key, m_json[key]);
    }
    std::int64_t integer(const std::string& key, std::int64_t fallback) const
    {
        if (!m_json.contains(key) || m_json[key].is_null())
            return fallback;
        if (!m_json[key].is_number_integer())
            throw Error(m_where + ": key '" + key + "' must be an integer");
        return m_json[key].get<std::int64_t>();
    }
    double positiveNumber(const std::string& key, double fallback) const
    {
        if (!m_json.contains(key) || m_json[key].is_null())
            return fallback;
        if (!m_json[key].is_number() || m_json[key].get<double>() <= 0)
            throw Error(m_where + ": key '" + key + "' must be a positive number");
        return m_json[key].get<double>();
    }
    bool boolean(const std::string& key, bool fallback) const
    {
        if (!m_json.contains(key) || m_json[key].is_null())
            return fallback;
        if (!m_json[key].is_boolean())
            throw Error(m_where + ": key '" + key + "' must be true or false");
        return m_json[key].get<bool>();
    }
    std::string string(const std::string& key, const std::string& fallback) const
    {
        if (!m_json.contains(key) || m_json[key].is_null())
            return fallback;
        if (!m_json[key].is_string())
            throw Error(m_where + ": key '" + key + "' must be a string");
        return m_json[key].get<std::string>();
    }
    bool isSet(const std::string& key) const { return m_json.contains(key) && !m_json[key].is_null(); }
    [[noreturn]] void fail(const std::string& key, const std::string& why) const
    {
        throw Error(m_where + ": key '" + key + "' " + why);
    }

private:
    std::int64_t checkPositive(const std::string& key, const nlohmann::json& value) const
    {
        if (!value.is_number_integer() || value.get<std::int64_t>() <= 0)
            throw Error(m_where + ": key '" + key + "' must be a positive integer");
        return value.get<std::int64_t>();
    }

    const nlohmann::json& m_json;
    std::string m_where;
};

ModelConfig parseLlama(const ConfigReader& reader)
{
    ModelConfig config;
    config.family = ModelFamily::Llama;
    config.hiddenSize = reader.positiveInt("hidden_size");
    config.intermediateSize = reader.positiveInt("intermediate_size");
    config.numLayers = reader.positiveInt("num_hidden_layers");
    config.numHeads = reader.positiveInt("num_attention_heads");
    config.numKvHeads = reader.positiveInt("num_key_value_heads", config.numHeads);
    config.vocabSize = reader.positiveInt("vocab_size");
    config.maxPositions = reader.positiveInt("max_position_embeddings", 2048);
    config.normEps = reader.positiveNumber("rms_norm_eps", 1e-6);
    config.ropeTheta = reader.positiveNumber("rope_theta", 10000.0);
    config.tieWordEmbeddings = reader.boolean("tie_word_embeddings", false);
    config.linearBias = reader.boolean("attention_bias", false);
    if (reader.boolean("mlp_bias", false))
        reader.fail("mlp_bias", "is true; LLaMA MLP biases are not supported");
    config.bosTokenId = reader.integer("bos_token_id", 1);
    config.eosTokenId = reader.integer("eos_token_id", 2);
    if (reader.isSet("rope_scaling"))
        reader.fail("rope_scaling", "is set; RoPE scaling variants are not supported");
    const std::string act = reader.string("hidden_act", "silu");
    if (act != "silu")
        reader.fail("hidden_act", "is '" + act + "'; LLaMA models must use 'silu'");
    if (config.hiddenSize % config.numHeads != 0)
        reader.fail("num_attention_heads", "does not divide hidden_size");
    config.headDim = reader.positiveInt("head_dim", config.hiddenSize / config.numHeads);
    if (config.headDim % 2 != 0)
        reader.fail("head_dim", "must be even for rotary embeddings");
    if (config.numHeads % config.numKvHeads != 0)
        reader.fail("num_key_value_heads", "must divide num_attention_heads");
    return config;
}

ModelConfig parseOpt(const ConfigReader& reader)
{
    ModelConfig config;
    config.family = ModelFamily::Opt;
    config.hiddenSize = reader.positiveInt("hidden_size");
    config.intermediateSize = reader.positiveInt("ffn_dim");
    config.numLayers = reader.positiveInt("num_hidden_layers");
    config.numHeads = reader.positiveInt("num_attention_heads");
    config.numKvHeads = config.numHeads;
    config.vocabSize = reader.positiveInt("vocab_size");
    config.maxPositions = reader.positiveInt("max_position_embeddings", 2048);
    config.normEps = 1e-5; // OPT's LayerNorms use torch's default epsilon
    config.tieWordEmbeddings = reader.boolean("tie_word_embeddings", true);
    config.linearBias = reader.boolean("enable_bias", true);
    config.bosTokenId = reader.integer("bos_token_id", 2);
    config.eosTokenId = reader.integer("eos_token_id", 2);
    if (!reader.boolean("do_layer_norm_before", true))
        reader.fail("do_layer_norm_before", "is false (post-LayerNorm OPT, e.g. opt-350m) which is not supported");
    if (reader.positiveInt("word_embed_proj_dim", config.hiddenSize) != config.hiddenSize)
        reader.fail("word_embed_proj_dim", "differs from hidden_size; projected OPT embeddings are not supported");
    if (!reader.boolean("layer_norm_elementwise_affine", true))
        reader.fail("layer_norm_elementwise_affine", "is false, which is not supported");
    const std::string act = reader.string("activation_function", "relu");
    if (act != "relu")
        reader.fail("activation_function", "is '" + act + "'; OPT models must use 'relu'");
    if (config.hiddenSize % config.numHeads != 0)
        reader.fail("num_attention_heads", "does not divide hidden_size");
    config.headDim = config.hiddenSize / config.numHeads;
    return config;
}

} // namespace

std::string familyName(ModelFamily family)
{
    return family == ModelFamily::Llama ? "llama" : "opt";
}

ModelConfig parseModelConfig(const std::string& jsonText, const std::string& where)
{
    const nlohmann::json json = parseStrictJson(jsonText, where);
    if (!json.is_object())
        throw Error(where + ": not a JSON object");
    const ConfigReader reader(json, where);
    const std::string modelType = reader.string("model_type", "");
    if (modelType.empty())
        throw Error(where + ": missing key 'model_type'");
    if (modelType == "llama")
        return parseLlama(reader);
    if (modelType == "opt")
        return parseOpt(reader);
    throw Error(where + ": unsupported model_type '" + modelType + "' (supported: llama, opt)");
}

ModelConfig loadModelConfig(const std::string& modelDir)
{
    const std::string path = (std::filesystem::path(modelDir) / "config.json").string();
    if (!std::filesystem::is_directory(modelDir))
        throw Error(modelDir + ": model directory not found");
    if (!std::filesystem::exists(path))
        throw Error(path + ": file not found (not a Hugging Face model directory?)");
    return parseModelConfig(readTextFile(path), path);
}

} // namespace core
