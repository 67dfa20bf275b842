#include "calib/ost_transforms.h"

#include "loss/reconstruction_loss.h"
#include "model/online_rotation.h"
#include "quant/hadamard.h"
#include "util/error.h"

namespace core {
namespace {

// Eigenvectors (ascending eigenvalues) of the covariance of the rows of `samples` [N, n],
// columns centred (torch.cov of the transposed matrix: divided by N − 1).
torch::Tensor covarianceEigenvectors(const torch::Tensor& samples)
{
    const torch::Tensor x = samples.to(torch::kFloat64);
    const torch::Tensor centred = x - x.mean(0, true);
    const torch::Tensor covariance = torch::matmul(centred.t(), centred) / static_cast<double>(x.size(0) - 1);
    return std::get<1>(torch::linalg_eigh(covariance));
}

// [n] → [rows = n] column vector for row scaling, [1, n] for column scaling.
torch::Tensor asRows(const torch::Tensor& s)
{
    return s.unsqueeze(1);
}
torch::Tensor asColumns(const torch::Tensor& s)
{
    return s.unsqueeze(0);
}

// The per-KV-head S_qk [kvHeads, d/2] as one factor per k_proj row [kvHeads·d] (each half-head
// value shared by channels i and i + d/2), or per q_proj row [heads·d] (repeated over the group).
torch::Tensor queryKeyRows(const torch::Tensor& half, std::int64_t groups)
{
    const torch::Tensor perHead = torch::cat({half, half}, 1); // [kvHeads, d]
    return perHead.repeat_interleave(groups, 0).reshape({-1});
}

} // namespace

std::vector<torch::Tensor> OstTransforms::rotations() const
{
    std::vector<torch::Tensor> all;
    if (residual.defined())
        all.push_back(residual);
    for (const torch::Tensor& perLayer : valueOutput)
        all.push_back(perLayer);
    return all;
}

std::vector<torch::Tensor> OstTransforms::scaleVectors() const
{
    std::vector<torch::Tensor> all;
    for (const OstLayerScales& s : scales)
        for (const torch::Tensor& t : {s.normQkv, s.normUpGate, s.queryKey, s.valueOut, s.upDown})
            all.push_back(t);
    return all;
}

OstTransforms initialOstTransforms(const ModelConfig& config, const std::vector<BlockWeights>& fusedBlocks,
                                   const OstTransformLayout& layout, OstRotationInit init, std::uint64_t seed)
{
    if (config.family != ModelFamily::Llama)
        throw Error("ostquant: only LLaMA-family models are supported");
    torch::NoGradGuard noGrad;
    OstTransforms t;
    t.layout = layout;
    const std::int64_t H = config.hiddenSize, d = config.headDim, kv = config.numKvHeads;
    const std::int64_t groups = config.numHeads / config.numKvHeads;
    if (layout.residualRotation) {
        const OrthogonalMatrix hadamard = randomHadamard(H, seed);
        if (init == OstRotationInit::Klt) {
            std::vector<torch::Tensor> rows;
            for (const BlockWeights& block : fusedBlocks)
                for (const char* name :
                     {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.up_proj", "mlp.gate_proj"})
                    rows.push_back(block.at(std::string(name) + ".weight"));
            t.residual =
                torch::matmul(covarianceEigenvectors(torch::cat(rows, 0)), hadamard.matrix).to(torch::kFloat32);
            t.residualInit = "klt · " + hadamard.kind;
        } else {
            t.residual = hadamard.matrix.to(torch::kFloat32);
            t.residualInit = hadamard.kind;
        }
    }
    if (layout.valueRotation) {
        for (std::size_t layer = 0; layer < fusedBlocks.size(); ++layer) {
            std::vector<torch::Tensor> heads;
            // o_proj's columns of KV head h's query group: [out, kv, groups, d] sliced at h.
            const torch::Tensor o = fusedBlocks[layer].at("self_attn.o_proj.weight").view({H, kv, groups, d});
            for (std::int64_t h = 0; h < kv; ++h) {
                const OrthogonalMatrix hadamard =
                    randomHadamard(d, stepSeed(seed, static_cast<std::int64_t>(layer), h));
                torch::Tensor r = hadamard.matrix;
                if (init == OstRotationInit::Klt)
                    r = torch::matmul(covarianceEigenvectors(o.select(1, h).reshape({-1, d})), r);
                heads.push_back(r.to(torch::kFloat32));
                t.valueInit = (init == OstRotationInit::Klt ? "klt · " : "") + hadamard.kind;
            }
            t.valueOutput.push_back(torch::stack(heads, 0));
        }
    }
    if (layout.scalings)
        for (std::size_t layer = 0; layer < fusedBlocks.size(); ++layer) {
            const auto ones = [](std::vector<std::int64_t> shape) { return torch::ones(shape, torch::kFloat32); };
            t.scales.push_back(
                {ones({H}), ones({H}), ones({kv, d / 2}), ones({kv * d}), ones({config.intermediateSize})});
        }
    if (layout.onlineDownRotation) {
        const OrthogonalMatrix rotation = onlineRotation(config.intermediateSize);
        t.downRotation = rotation.matrix.to(torch::kFloat32);
        t.downRotationKind = rotation.kind;
    }
    if (layout.onlineQueryKeyRotation) {
        const torch::Tensor hadamard = hadamardMatrix(d);
        if (!hadamard.defined())
            throw Error("ostquant: the online Q/K Hadamard needs a head dimension with a Hadamard matrix (got " +
                        std::to_string(d) + ")");
        t.queryKeyRotation = hadamard.to(torch::kFloat32);
    }
    return t;
}

BlockWeights transformedBlock(const ModelConfig& config, const BlockWeights& fused, std::int64_t index,
                              const OstTransforms& t, torch::ScalarType dtype)
{
    const std::int64_t H = config.hiddenSize, d = config.headDim, kv = config.numKvHeads;
    const std::int64_t heads = config.numHeads, groups = heads / kv;
    const auto weight = [&](const char* name) { return fused.at(std::string(name) + ".weight").to(dtype); };
    torch::Tensor q = weight("self_attn.q_proj"), k = weight("self_attn.k_proj"), v = weight("self_attn.v_proj");
    torch::Tensor o = weight("self_attn.o_proj"), gate = weight("mlp.gate_proj"), up = weight("mlp.up_proj");
    torch::Tensor down = weight("mlp.down_proj");
    torch::Tensor inputNorm = fused.at("input_layernorm.weight").to(dtype);
    torch::Tensor postNorm = fused.at("post_attention_layernorm.weight").to(dtype);
    const auto layer = static_cast<std::size_t>(index);

    // 1. Scalings in the original basis.
    if (t.layout.scalings) {
        const OstLayerScales& s = t.scales.at(layer);
        const torch::Tensor qk = s.queryKey.to(dtype);
        k = k * asRows(queryKeyRows(qk, 1));
        q = q / asRows(queryKeyRows(qk, groups));
        const torch::Tensor ov = s.valueOut.to(dtype);
        v = v / asRows(ov);
        o = o * asColumns(ov.view({kv, 1, d}).expand({kv, groups, d}).reshape({-1}));
        const torch::Tensor ud = s.upDown.to(dtype);
        up = up / asRows(ud);
        down = down * asColumns(ud);
    }
    if (t.layout.onlineDownRotation)
        down = torch::matmul(down, t.downRotation.to(dtype));
    // 2. The residual rotation: readers' columns, writers' rows.
    if (t.layout.residualRotation) {
        const torch::Tensor r = t.residual.to(dtype);
        q = torch::matmul(q, r);
        k = torch::matmul(k, r);
        v = torch::matmul(v, r);
        gate = torch::matmul(gate, r);
        up = torch::matmul(up, r);
        o = torch::matmul(r.t(), o);
        down = torch::matmul(r.t(), down);
    }
    // 3. R_ov: v_proj's rows of head h become R_hᵀ·W_v,h; o_proj's columns of query head j
    //    become W_o,j·R_kv(j).
    if (t.layout.valueRotation) {
        const torch::Tensor r = t.valueOutput.at(layer).to(dtype); // [kv, d, d]
        v = torch::matmul(r.transpose(1, 2), v.view({kv, d, H})).reshape({kv * d, H});
        const torch::Tensor perQueryHead = r.repeat_interleave(groups, 0); // [heads, d, d]
        o = torch::matmul(o.view({H, heads, d}).transpose(0, 1), perQueryHead).transpose(0, 1).reshape({H, heads * d});
    }
    // 4. Norm scalings in the rotated basis.
    if (t.layout.scalings) {
        const OstLayerScales& s = t.scales.at(layer);
        const torch::Tensor nqkv = s.normQkv.to(dtype), nug = s.normUpGate.to(dtype);
        inputNorm = inputNorm / nqkv;
        q = q * asColumns(nqkv);
        k = k * asColumns(nqkv);
        v = v * asColumns(nqkv);
        postNorm = postNorm / nug;
        gate = gate * asColumns(nug);
        up = up * asColumns(nug);
    }
    BlockWeights out = fused;
    const auto set = [&](const char* name, const torch::Tensor& value) {
        out.tensors[name] = value.to(torch::kFloat32);
    };
    set("self_attn.q_proj.weight", q);
    set("self_attn.k_proj.weight", k);
    set("self_attn.v_proj.weight", v);
    set("self_attn.o_proj.weight", o);
    set("mlp.gate_proj.weight", gate);
    set("mlp.up_proj.weight", up);
    set("mlp.down_proj.weight", down);
    set("input_layernorm.weight", inputNorm);
    set("post_attention_layernorm.weight", postNorm);
    if (t.layout.onlineDownRotation)
        out.tensors[kDownProjInputRotation] = t.downRotation;
    if (t.layout.onlineQueryKeyRotation)
        out.tensors[kQueryKeyRotation] = t.queryKeyRotation;
    return out;
}

GlobalWeights transformedGlobals(const GlobalWeights& fused, const OstTransforms& t, torch::ScalarType dtype)
{
    GlobalWeights out = fused;
    if (t.layout.residualRotation) {
        const torch::Tensor r = t.residual.to(dtype);
        out.embedTokens = torch::matmul(fused.embedTokens.to(dtype), r).to(torch::kFloat32);
        out.lmHead = torch::matmul(fused.lmHead.to(dtype), r).to(torch::kFloat32);
    }
    return out;
}

} // namespace core
