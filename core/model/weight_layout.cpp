#include "model/weight_layout.h"

namespace core {

std::string blockPrefix(const ModelConfig& config, std::int64_t block)
{
    const std::string base = config.family == ModelFamily::Llama ? "model.layers." : "model.decoder.layers.";
    return base + std::to_string(block) + ".";
}

std::vector<std::string> linearShortNames(ModelFamily family)
{
    if (family == ModelFamily::Llama)
        return {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
    return {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "fc1", "fc2"};
}

std::vector<TensorSpec> blockTensorSpecs(const ModelConfig& c)
{
    const std::int64_t h = c.hiddenSize;
    const std::int64_t qWidth = c.numHeads * c.headDim;
    const std::int64_t kvWidth = c.numKvHeads * c.headDim;
    const std::int64_t ff = c.intermediateSize;
    std::vector<TensorSpec> specs;
    auto linear = [&](const std::string& name, std::int64_t out, std::int64_t in) {
        specs.push_back({name + ".weight", {out, in}});
        if (c.linearBias)
            specs.push_back({name + ".bias", {out}});
    };
    if (c.family == ModelFamily::Llama) {
        specs.push_back({"input_layernorm.weight", {h}});
        linear("self_attn.q_proj", qWidth, h);
        linear("self_attn.k_proj", kvWidth, h);
        linear("self_attn.v_proj", kvWidth, h);
        linear("self_attn.o_proj", h, qWidth);
        specs.push_back({"post_attention_layernorm.weight", {h}});
        // LLaMA MLPs never carry biases (mlp_bias is rejected by the config parser).
        specs.push_back({"mlp.gate_proj.weight", {ff, h}});
        specs.push_back({"mlp.up_proj.weight", {ff, h}});
        specs.push_back({"mlp.down_proj.weight", {h, ff}});
    } else {
        specs.push_back({"self_attn_layer_norm.weight", {h}});
        specs.push_back({"self_attn_layer_norm.bias", {h}});
        linear("self_attn.q_proj", h, h);
        linear("self_attn.k_proj", h, h);
        linear("self_attn.v_proj", h, h);
        linear("self_attn.out_proj", h, h);
        specs.push_back({"final_layer_norm.weight", {h}});
        specs.push_back({"final_layer_norm.bias", {h}});
        linear("fc1", ff, h);
        linear("fc2", h, ff);
    }
    return specs;
}

GlobalNames globalNames(const ModelConfig& c)
{
    GlobalNames names;
    if (c.family == ModelFamily::Llama) {
        names.embedTokens = "model.embed_tokens.weight";
        names.finalNormWeight = "model.norm.weight";
    } else {
        names.embedTokens = "model.decoder.embed_tokens.weight";
        names.embedPositions = "model.decoder.embed_positions.weight";
        names.finalNormWeight = "model.decoder.final_layer_norm.weight";
        names.finalNormBias = "model.decoder.final_layer_norm.bias";
    }
    if (!c.tieWordEmbeddings)
        names.lmHead = "lm_head.weight";
    return names;
}

std::vector<TensorSpec> globalTensorSpecs(const ModelConfig& c)
{
    const GlobalNames names = globalNames(c);
    std::vector<TensorSpec> specs{{names.embedTokens, {c.vocabSize, c.hiddenSize}},
                                  {names.finalNormWeight, {c.hiddenSize}}};
    if (!names.embedPositions.empty())
        specs.push_back({names.embedPositions, {c.maxPositions + kOptPositionOffset, c.hiddenSize}});
    if (!names.finalNormBias.empty())
        specs.push_back({names.finalNormBias, {c.hiddenSize}});
    if (!names.lmHead.empty())
        specs.push_back({names.lmHead, {c.vocabSize, c.hiddenSize}});
    return specs;
}

std::string shapeToString(const std::vector<std::int64_t>& shape)
{
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

std::int64_t parameterCount(const ModelConfig& config)
{
    std::int64_t total = 0;
    for (const auto& spec : globalTensorSpecs(config))
        total += shapeNumel(spec.shape);
    for (const auto& spec : blockTensorSpecs(config))
        total += shapeNumel(spec.shape) * config.numLayers;
    return total;
}

} // namespace core
