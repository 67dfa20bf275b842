#include "calib/equivalent_transform.h"

#include "util/error.h"

namespace core {
namespace {

torch::Tensor smoothingScale(const torch::Tensor& activationMax, const torch::Tensor& weightMax, double alpha)
{
    return (activationMax.clamp_min(1e-5).pow(alpha) / weightMax.clamp_min(1e-5).pow(1.0 - alpha)).clamp_min(1e-5);
}

torch::Tensor logActivationScale(const torch::Tensor& activationMax)
{
    const torch::Tensor a = activationMax.clamp_min(1e-5);
    return (a / torch::log2(2.0 + a)).clamp_min(1e-5);
}

// max |W[:, j]| over the rows of every matrix in `weights` (same column count).
torch::Tensor columnMax(const std::vector<torch::Tensor>& weights)
{
    torch::Tensor result;
    for (const auto& w : weights) {
        const torch::Tensor m = std::get<0>(w.detach().abs().max(0));
        result = result.defined() ? torch::maximum(result, m) : m;
    }
    return result;
}

} // namespace

EquivalentTransform::EquivalentTransform(const ModelConfig& config, const BlockWeights& fp,
                                         const std::map<std::string, torch::Tensor>& inputAbsMax, double alpha)
    : EquivalentTransform(config, fp, inputAbsMax, EquivalentTransformInit{.alpha = alpha})
{
}

EquivalentTransform::EquivalentTransform(const ModelConfig& config, const BlockWeights& fp,
                                         const std::map<std::string, torch::Tensor>& inputAbsMax,
                                         const EquivalentTransformInit& init)
    : m_config(config)
{
    if (config.family != ModelFamily::Llama)
        throw Error("learnable equivalent transformation (LET) is implemented for LLaMA-family models only");
    torch::NoGradGuard noGrad;
    const auto weight = [&](const char* name) { return fp.at(std::string(name) + ".weight"); };
    const auto statistic = [&](const char* name, const char* alternative) {
        const auto found = inputAbsMax.find(name);
        return found != inputAbsMax.end() ? found->second : inputAbsMax.at(alternative);
    };
    const bool logInit = init.scale == EquivalentTransformInit::Scale::LogActivation;
    const bool ones = init.scale == EquivalentTransformInit::Scale::Ones;
    const auto startScale = [&](const torch::Tensor& activationMax, const std::vector<torch::Tensor>& weights) {
        if (ones)
            return torch::ones_like(activationMax);
        return logInit ? logActivationScale(activationMax)
                       : smoothingScale(activationMax, columnMax(weights), init.alpha);
    };
    m_attn = startScale(statistic("self_attn.q_proj", "self_attn.k_proj"),
                        {weight("self_attn.q_proj"), weight("self_attn.k_proj"), weight("self_attn.v_proj")});
    m_mlp = startScale(statistic("mlp.gate_proj", "mlp.up_proj"), {weight("mlp.gate_proj"), weight("mlp.up_proj")});
    // o_proj's columns are per query head; a v channel feeds every query head of its KV
    // head, so its scale starts from the largest of them.
    const std::int64_t groups = config.numHeads / config.numKvHeads;
    const auto perKv = [&](const torch::Tensor& perQuery) {
        return std::get<0>(perQuery.reshape({config.numKvHeads, groups, config.headDim}).max(1)).reshape({-1});
    };
    const torch::Tensor oInput = perKv(inputAbsMax.at("self_attn.o_proj"));
    m_vo = ones      ? torch::ones_like(oInput)
           : logInit ? logActivationScale(oInput)
                     : smoothingScale(oInput, perKv(columnMax({weight("self_attn.o_proj")})), init.alpha);
    m_qk = torch::ones({config.numKvHeads * config.headDim / 2});
    for (torch::Tensor* p : {&m_attn, &m_mlp, &m_vo, &m_qk})
        *p = p->to(torch::kFloat32).contiguous().requires_grad_(true);
    if (init.shifts) {
        // LLaMA: δ = 0 (the authors' OPT runs start from the activations' midrange).
        m_attnShift = torch::zeros({config.hiddenSize}).requires_grad_(true);
        m_mlpShift = torch::zeros({config.hiddenSize}).requires_grad_(true);
        m_voShift = torch::zeros({config.numKvHeads * config.headDim}).requires_grad_(true);
    }
}

std::vector<torch::Tensor> EquivalentTransform::parameters() const
{
    std::vector<torch::Tensor> parameters{m_attn, m_mlp, m_vo, m_qk};
    if (hasShifts())
        parameters.insert(parameters.end(), {m_attnShift, m_mlpShift, m_voShift});
    return parameters;
}

torch::Tensor EquivalentTransform::scale(const torch::Tensor& raw) const
{
    return raw.clamp_min(1e-2);
}

torch::Tensor EquivalentTransform::perQueryChannel(const torch::Tensor& perKvChannel) const
{
    const std::int64_t groups = m_config.numHeads / m_config.numKvHeads;
    return perKvChannel.reshape({m_config.numKvHeads, 1, m_config.headDim})
        .expand({m_config.numKvHeads, groups, m_config.headDim})
        .reshape({-1});
}

torch::Tensor EquivalentTransform::qkPerKvChannel() const
{
    const torch::Tensor half = scale(m_qk).reshape({m_config.numKvHeads, m_config.headDim / 2});
    return torch::cat({half, half}, 1).reshape({-1}); // rotate-half pairs dims i and i + d/2
}

torch::Tensor EquivalentTransform::inputScale(const std::string& shortName) const
{
    if (shortName == "self_attn.q_proj" || shortName == "self_attn.k_proj" || shortName == "self_attn.v_proj")
        return scale(m_attn);
    if (shortName == "mlp.gate_proj" || shortName == "mlp.up_proj")
        return scale(m_mlp);
    if (shortName == "self_attn.o_proj")
        return perQueryChannel(scale(m_vo));
    return {};
}

BlockWeights EquivalentTransform::apply(const BlockWeights& fp) const
{
    BlockWeights out = fp;
    const torch::Tensor attn = scale(m_attn), mlp = scale(m_mlp), vo = scale(m_vo);
    const torch::Tensor qk = qkPerKvChannel();
    const auto columns = [](const torch::Tensor& w, const torch::Tensor& s) { return w * s.unsqueeze(0); };
    const auto rows = [](const torch::Tensor& w, const torch::Tensor& s) { return w * s.unsqueeze(1); };
    out.tensors["input_layernorm.weight"] = fp.at("input_layernorm.weight") / attn;
    out.tensors["post_attention_layernorm.weight"] = fp.at("post_attention_layernorm.weight") / mlp;
    out.tensors["self_attn.q_proj.weight"] =
        rows(columns(fp.at("self_attn.q_proj.weight"), attn), 1.0 / perQueryChannel(qk));
    out.tensors["self_attn.k_proj.weight"] = rows(columns(fp.at("self_attn.k_proj.weight"), attn), qk);
    out.tensors["self_attn.v_proj.weight"] = rows(columns(fp.at("self_attn.v_proj.weight"), attn), 1.0 / vo);
    out.tensors["self_attn.o_proj.weight"] = columns(fp.at("self_attn.o_proj.weight"), perQueryChannel(vo));
    out.tensors["mlp.gate_proj.weight"] = columns(fp.at("mlp.gate_proj.weight"), mlp);
    out.tensors["mlp.up_proj.weight"] = columns(fp.at("mlp.up_proj.weight"), mlp);
    // Biases (attention_bias models): q and k rows are scaled, v rows divided.
    torch::Tensor qBias = fp.optional("self_attn.q_proj.bias"), kBias = fp.optional("self_attn.k_proj.bias");
    torch::Tensor vBias = fp.optional("self_attn.v_proj.bias"), oBias = fp.optional("self_attn.o_proj.bias");
    if (hasShifts()) {
        // A Linear reading (x − δ)/s with columns W·s adds W δ to its bias (W before scaling).
        const auto shifted = [](const torch::Tensor& bias, const torch::Tensor& w, const torch::Tensor& delta) {
            const torch::Tensor added = torch::mv(w, delta);
            return bias.defined() ? bias + added : added;
        };
        const auto& w = fp.tensors;
        out.tensors["input_layernorm.bias"] = -m_attnShift / attn;
        out.tensors["post_attention_layernorm.bias"] = -m_mlpShift / mlp;
        qBias = shifted(qBias, w.at("self_attn.q_proj.weight"), m_attnShift);
        kBias = shifted(kBias, w.at("self_attn.k_proj.weight"), m_attnShift);
        vBias = shifted(vBias, w.at("self_attn.v_proj.weight"), m_attnShift) - m_voShift;
        oBias = shifted(oBias, w.at("self_attn.o_proj.weight"), perQueryChannel(m_voShift));
        out.tensors["mlp.gate_proj.bias"] =
            shifted(fp.optional("mlp.gate_proj.bias"), w.at("mlp.gate_proj.weight"), m_mlpShift);
        out.tensors["mlp.up_proj.bias"] =
            shifted(fp.optional("mlp.up_proj.bias"), w.at("mlp.up_proj.weight"), m_mlpShift);
        out.tensors["self_attn.o_proj.bias"] = oBias;
    }
    if (qBias.defined())
        out.tensors["self_attn.q_proj.bias"] = qBias / perQueryChannel(qk);
    if (kBias.defined())
        out.tensors["self_attn.k_proj.bias"] = kBias * qk;
    if (vBias.defined())
        out.tensors["self_attn.v_proj.bias"] = vBias / vo;
    return out;
}

} // namespace core
