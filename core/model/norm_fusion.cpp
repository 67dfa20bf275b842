#include "model/norm_fusion.h"

#include "util/error.h"

namespace core {
namespace {

torch::Tensor scaledColumns(const torch::Tensor& weight, const torch::Tensor& gamma)
{
    return (weight.to(torch::kFloat64) * gamma.to(torch::kFloat64).unsqueeze(0)).to(torch::kFloat32);
}

void requireLlama(const ModelConfig& config)
{
    if (config.family != ModelFamily::Llama)
        throw Error("norm fusion: only LLaMA-family models (RMSNorm without bias) are supported");
}

} // namespace

BlockWeights fuseBlockNorms(const ModelConfig& config, const BlockWeights& block)
{
    requireLlama(config);
    BlockWeights fused = block;
    const auto fold = [&](const std::string& norm, const std::vector<std::string>& readers) {
        const torch::Tensor& gamma = block.at(norm);
        for (const std::string& reader : readers)
            fused.tensors[reader + ".weight"] = scaledColumns(block.at(reader + ".weight"), gamma);
        fused.tensors[norm] = torch::ones_like(gamma);
    };
    fold("input_layernorm.weight", {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"});
    fold("post_attention_layernorm.weight", {"mlp.gate_proj", "mlp.up_proj"});
    return fused;
}

GlobalWeights fuseFinalNorm(const ModelConfig& config, const GlobalWeights& globals)
{
    requireLlama(config);
    if (config.tieWordEmbeddings || globals.lmHead.is_same(globals.embedTokens))
        throw Error("norm fusion: the model ties its output head to the embedding (tie_word_embeddings); folding "
                    "the final norm into the head would untie them, which is not supported");
    GlobalWeights fused = globals;
    fused.lmHead = scaledColumns(globals.lmHead, globals.finalNormWeight);
    fused.finalNormWeight = torch::ones_like(globals.finalNormWeight);
    return fused;
}

} // namespace core
