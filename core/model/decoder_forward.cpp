#include "model/decoder_forward.h"

#include "model/online_rotation.h"
#include "model/weight_layout.h"
#include "util/error.h"

#include <cmath>
#include <limits>
#include <tuple>

namespace core {
namespace {

// Attention scores computed at once per chunk of windows (see attend()).
constexpr std::int64_t kAttentionChunkBytes = 8ll * 1024 * 1024;

torch::Tensor linear(const BlockWeights& weights, const std::string& shortName, const torch::Tensor& input,
                     const std::string& layerPrefix, const ForwardHooks* hooks)
{
    if (hooks == nullptr || hooks->empty())
        return torch::nn::functional::linear(input, weights.at(shortName + ".weight"),
                                             weights.optional(shortName + ".bias"));
    const std::string layer = layerPrefix + shortName;
    torch::Tensor x = input;
    for (const LinearInputTransform& transform : hooks->linearInputs)
        x = transform(layer, x);
    torch::Tensor output =
        torch::nn::functional::linear(x, weights.at(shortName + ".weight"), weights.optional(shortName + ".bias"));
    for (const LinearOutputTransform& transform : hooks->linearOutputs)
        output = transform(layer, x, output);
    for (const LinearObserver& observer : hooks->observers)
        observer(layer, x, output);
    return output;
}

// K and V [B, kvHeads, T, d] through the hooks' transforms, in order.
void transformKeyValues(const ForwardHooks* hooks, const std::string& prefix, torch::Tensor& k, torch::Tensor& v)
{
    if (hooks == nullptr)
        return;
    for (const KeyValueTransform& transform : hooks->keyValues)
        std::tie(k, v) = transform(prefix, k, v);
}

// Rotate-half RoPE as in HF `apply_rotary_pos_emb` (first half / second half pairing):
// x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁]. The angle tables repeat over the
// two halves (cos = [c, c], sin = [s, s]), so each half is computed from half-width tables,
// bit for bit the same values without materializing the rotated copy.
torch::Tensor applyRope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin)
{
    const std::int64_t half = x.size(-1) / 2;
    const torch::Tensor x1 = x.narrow(-1, 0, half);
    const torch::Tensor x2 = x.narrow(-1, half, half);
    const torch::Tensor c = cos.narrow(-1, 0, half);
    const torch::Tensor s = sin.narrow(-1, 0, half);
    return torch::cat({x1 * c - x2 * s, x2 * c + x1 * s}, -1);
}

// [B, T, heads·d] → [B, T, heads, d] (a view of the Linear's output)
torch::Tensor viewHeads(const torch::Tensor& x, std::int64_t heads, std::int64_t headDim)
{
    return x.view({x.size(0), x.size(1), heads, headDim});
}

// [B, T, heads·d] → [B, heads, T, d]
torch::Tensor splitHeads(const torch::Tensor& x, std::int64_t heads, std::int64_t headDim)
{
    return viewHeads(x, heads, headDim).transpose(1, 2);
}

// Causal attention. `q` arrives already multiplied by the softmax scale: scaling
// the [T, d] queries is cheaper than scaling the [T, T] scores.
torch::Tensor attend(const torch::Tensor& q, torch::Tensor k, torch::Tensor v, const ModelConfig& config,
                     const AttentionContext& attention)
{
    if (config.numKvHeads != config.numHeads) {
        // Grouped-query attention: each KV head serves numHeads/numKvHeads consecutive query heads (HF repeat_kv).
        const std::int64_t repeats = config.numHeads / config.numKvHeads;
        k = k.repeat_interleave(repeats, 1);
        v = v.repeat_interleave(repeats, 1);
    }
    const std::int64_t batch = q.size(0);
    const std::int64_t seqLen = q.size(2);
    const auto attendRows = [&](std::int64_t first, std::int64_t count) {
        torch::Tensor scores = torch::matmul(q.narrow(0, first, count), k.narrow(0, first, count).transpose(-2, -1));
        scores.add_(attention.maskRows(first, count, seqLen)); // in place: matmul's backward does not need its output
        const torch::Tensor probabilities = torch::softmax(scores, -1);
        return torch::matmul(probabilities, v.narrow(0, first, count)); // [count, heads, T, d]
    };
    // The [B, heads, T, T] scores are written, masked, soft-maxed and read again: memory-bound
    // passes that run several times faster while one chunk's scores stay in the cache (bundled
    // model, 16 windows per batch: 67 MB at once; one window: 4 MB). Each window's scores are
    // the same computation either way.
    const std::int64_t scoreBytesPerRow = config.numHeads * seqLen * seqLen * static_cast<std::int64_t>(sizeof(float));
    const std::int64_t rowsPerChunk = std::max<std::int64_t>(1, kAttentionChunkBytes / scoreBytesPerRow);
    torch::Tensor context;
    if (rowsPerChunk >= batch) {
        context = attendRows(0, batch);
    } else {
        std::vector<torch::Tensor> chunks;
        for (std::int64_t first = 0; first < batch; first += rowsPerChunk)
            chunks.push_back(attendRows(first, std::min(rowsPerChunk, batch - first)));
        context = torch::cat(chunks, 0);
    }
    return context.transpose(1, 2).reshape({batch, seqLen, config.numHeads * config.headDim});
}

// A LLaMA norm has no bias; LRQuant's shifts give it one (calib/equivalent_transform.h).
torch::Tensor withNormBias(const torch::Tensor& normed, const BlockWeights& w, const char* norm)
{
    const torch::Tensor bias = w.optional(std::string(norm) + ".bias");
    return bias.defined() ? normed + bias : normed;
}

torch::Tensor llamaBlock(const ModelConfig& c, const BlockWeights& w, const torch::Tensor& x,
                         const AttentionContext& attention, const std::string& prefix, const ForwardHooks* hooks)
{
    const std::int64_t seqLen = x.size(1);
    // Broadcast over heads of the [B, T, heads, d] layout, where RoPE runs on contiguous memory
    // (on the transposed layout it costs several times more).
    const torch::Tensor cos = attention.ropeCos(seqLen);
    const torch::Tensor sin = attention.ropeSin(seqLen);

    const torch::Tensor h = withNormBias(rmsNorm(x, w.at("input_layernorm.weight"), c.normEps), w, "input_layernorm");
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
    torch::Tensor q =
        (applyRope(viewHeads(linear(w, "self_attn.q_proj", h, prefix, hooks), c.numHeads, c.headDim), cos, sin) * scale)
            .transpose(1, 2);
    torch::Tensor k =
        applyRope(viewHeads(linear(w, "self_attn.k_proj", h, prefix, hooks), c.numKvHeads, c.headDim), cos, sin)
            .transpose(1, 2);
    torch::Tensor v = splitHeads(linear(w, "self_attn.v_proj", h, prefix, hooks), c.numKvHeads, c.headDim);
    if (const torch::Tensor rotation = w.optional(kQueryKeyRotation); rotation.defined()) {
        q = torch::matmul(q, rotation);
        k = torch::matmul(k, rotation);
    }
    transformKeyValues(hooks, prefix, k, v);
    const torch::Tensor context = attend(q, k, v, c, attention);
    const torch::Tensor afterAttention = x + linear(w, "self_attn.o_proj", context, prefix, hooks);

    const torch::Tensor m = withNormBias(rmsNorm(afterAttention, w.at("post_attention_layernorm.weight"), c.normEps), w,
                                         "post_attention_layernorm");
    torch::Tensor gate = linear(w, "mlp.gate_proj", m, prefix, hooks);
    const torch::Tensor up = linear(w, "mlp.up_proj", m, prefix, hooks);
    const torch::Tensor downRotation = w.optional(kDownProjInputRotation);
    const auto rotated = [&](const torch::Tensor& input) {
        return downRotation.defined() ? torch::matmul(input, downRotation) : input;
    };
    if (!torch::GradMode::is_enabled() && (hooks == nullptr || hooks->observers.empty())) {
        // Inference (eval): the same operations in place, saving two passes over the
        // [tokens, intermediate] activations (autograd would need the originals; an hooks
        // may keep a reference to a Linear's output).
        torch::Tensor output = linear(w, "mlp.down_proj", rotated(torch::silu_(gate).mul_(up)), prefix, hooks);
        return output.add_(afterAttention);
    }
    return afterAttention + linear(w, "mlp.down_proj", rotated(torch::silu(gate) * up), prefix, hooks);
}

torch::Tensor optBlock(const ModelConfig& c, const BlockWeights& w, const torch::Tensor& x,
                       const AttentionContext& attention, const std::string& prefix, const ForwardHooks* hooks)
{
    namespace F = torch::nn::functional;
    const auto norm = [&](const torch::Tensor& input, const std::string& name) {
        return F::layer_norm(input, F::LayerNormFuncOptions({c.hiddenSize})
                                        .weight(w.at(name + ".weight"))
                                        .bias(w.at(name + ".bias"))
                                        .eps(c.normEps));
    };
    const torch::Tensor h = norm(x, "self_attn_layer_norm");
    // HF OPTAttention scales q (after its bias) by headDim^-0.5 before the product.
    const double scaling = 1.0 / std::sqrt(static_cast<double>(c.headDim));
    const torch::Tensor q =
        splitHeads(linear(w, "self_attn.q_proj", h, prefix, hooks) * scaling, c.numHeads, c.headDim);
    torch::Tensor k = splitHeads(linear(w, "self_attn.k_proj", h, prefix, hooks), c.numHeads, c.headDim);
    torch::Tensor v = splitHeads(linear(w, "self_attn.v_proj", h, prefix, hooks), c.numHeads, c.headDim);
    transformKeyValues(hooks, prefix, k, v);
    const torch::Tensor context = attend(q, k, v, c, attention);
    const torch::Tensor afterAttention = x + linear(w, "self_attn.out_proj", context, prefix, hooks);

    const torch::Tensor m = norm(afterAttention, "final_layer_norm");
    const torch::Tensor hidden = torch::relu(linear(w, "fc1", m, prefix, hooks));
    return afterAttention + linear(w, "fc2", hidden, prefix, hooks);
}

} // namespace

const torch::Tensor& BlockWeights::at(const std::string& shortName) const
{
    auto it = tensors.find(shortName);
    if (it == tensors.end())
        throw Error("block weights: missing tensor " + shortName);
    return it->second;
}

torch::Tensor BlockWeights::optional(const std::string& shortName) const
{
    auto it = tensors.find(shortName);
    return it == tensors.end() ? torch::Tensor() : it->second;
}

namespace {

// inv_freq_i = theta^(-2i/d), HF LlamaRotaryEmbedding; angles in float32 as HF does, so a
// position's angles are the same values whichever table they are read from.
torch::Tensor ropeAngles(const ModelConfig& config, const torch::Tensor& positions)
{
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(positions.device());
    const torch::Tensor exponents = torch::arange(0, config.headDim, 2, options) / static_cast<double>(config.headDim);
    const torch::Tensor invFreq = 1.0 / torch::pow(config.ropeTheta, exponents);
    const torch::Tensor angles = positions.to(torch::kFloat32).unsqueeze(-1) * invFreq;
    return torch::cat({angles, angles}, -1);
}

} // namespace

AttentionContext::AttentionContext(const ModelConfig& config, std::int64_t seqLen, torch::Device device)
    : m_seqLen(seqLen)
{
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    m_mask = torch::full({seqLen, seqLen}, -std::numeric_limits<float>::infinity(), options).triu(1);
    if (config.family == ModelFamily::Llama) {
        const torch::Tensor full = ropeAngles(config, torch::arange(seqLen, options));
        m_cos = full.cos();
        m_sin = full.sin();
    }
}

AttentionContext::AttentionContext(const ModelConfig& config, const torch::Tensor& positions,
                                   const torch::Tensor& allowed)
    : m_seqLen(positions.size(1)), m_positions(positions.to(torch::kInt64))
{
    if (positions.dim() != 2 || allowed.dim() != 3 || allowed.size(0) != positions.size(0) ||
        allowed.size(1) != m_seqLen || allowed.size(2) != m_seqLen)
        throw Error("packed attention: positions [B, T] and allowed [B, T, T] do not match");
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(positions.device());
    m_mask = torch::zeros(allowed.sizes(), options)
                 .masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity())
                 .unsqueeze(1);
    if (config.family == ModelFamily::Llama) {
        const torch::Tensor full = ropeAngles(config, m_positions);
        m_cos = full.cos();
        m_sin = full.sin();
    }
}

torch::Tensor AttentionContext::maskRows(std::int64_t first, std::int64_t count, std::int64_t seqLen) const
{
    if (packed())
        return m_mask.narrow(0, first, count).narrow(2, 0, seqLen).narrow(3, 0, seqLen);
    return m_mask.narrow(0, 0, seqLen).narrow(1, 0, seqLen);
}

torch::Tensor AttentionContext::ropeCos(std::int64_t seqLen) const
{
    return packed() ? m_cos.narrow(1, 0, seqLen).unsqueeze(2) : m_cos.narrow(0, 0, seqLen).unsqueeze(1);
}

torch::Tensor AttentionContext::ropeSin(std::int64_t seqLen) const
{
    return packed() ? m_sin.narrow(1, 0, seqLen).unsqueeze(2) : m_sin.narrow(0, 0, seqLen).unsqueeze(1);
}

torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps)
{
    const torch::Tensor variance = x.pow(2).mean(-1, true);
    return weight * (x * torch::rsqrt(variance + eps));
}

torch::Tensor embedTokens(const ModelConfig& config, const GlobalWeights& weights, const torch::Tensor& ids,
                          const torch::Tensor& positions)
{
    if (ids.numel() > 0) {
        const auto minId = ids.min().item<std::int64_t>();
        const auto maxId = ids.max().item<std::int64_t>();
        if (minId < 0 || maxId >= config.vocabSize)
            throw Error("token id " + std::to_string(minId < 0 ? minId : maxId) + " is outside the vocabulary of " +
                        std::to_string(config.vocabSize));
    }
    torch::Tensor hidden = torch::embedding(weights.embedTokens, ids);
    if (config.family == ModelFamily::Opt && positions.defined()) {
        if (positions.numel() > 0 && positions.max().item<std::int64_t>() >= config.maxPositions)
            throw Error("position " + std::to_string(positions.max().item<std::int64_t>()) +
                        " exceeds max_position_embeddings " + std::to_string(config.maxPositions));
        hidden = hidden + torch::embedding(weights.embedPositions, positions.to(ids.device()) + kOptPositionOffset);
    } else if (config.family == ModelFamily::Opt) {
        if (ids.size(1) > config.maxPositions)
            throw Error("sequence of " + std::to_string(ids.size(1)) + " tokens exceeds max_position_embeddings " +
                        std::to_string(config.maxPositions));
        const torch::Tensor positions =
            torch::arange(ids.size(1), torch::TensorOptions().dtype(torch::kInt64).device(ids.device())) +
            kOptPositionOffset;
        hidden = hidden + torch::embedding(weights.embedPositions, positions).unsqueeze(0);
    }
    return hidden;
}

torch::Tensor decoderBlock(const ModelConfig& config, const BlockWeights& weights, const torch::Tensor& hidden,
                           const AttentionContext& attention, const std::string& layerPrefix, const ForwardHooks* hooks)
{
    if (hidden.size(1) > attention.seqLen())
        throw Error("attention context built for " + std::to_string(attention.seqLen()) + " tokens, got " +
                    std::to_string(hidden.size(1)));
    return config.family == ModelFamily::Llama ? llamaBlock(config, weights, hidden, attention, layerPrefix, hooks)
                                               : optBlock(config, weights, hidden, attention, layerPrefix, hooks);
}

torch::Tensor outputLogits(const ModelConfig& config, const GlobalWeights& weights, const torch::Tensor& hidden)
{
    torch::Tensor normed;
    if (config.family == ModelFamily::Llama) {
        normed = rmsNorm(hidden, weights.finalNormWeight, config.normEps);
    } else {
        namespace F = torch::nn::functional;
        normed = F::layer_norm(hidden, F::LayerNormFuncOptions({config.hiddenSize})
                                           .weight(weights.finalNormWeight)
                                           .bias(weights.finalNormBias)
                                           .eps(config.normEps));
    }
    return torch::matmul(normed, weights.lmHead.t());
}

} // namespace core
