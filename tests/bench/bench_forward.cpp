// bench_forward: forward-pass throughput of a LLaMA-shaped decoder (hidden 1024,
// 8 blocks, 16 heads of 64, SwiGLU 2816, vocab 32000) at seq 512, as achieved
// GFLOP/s relative to a plain torch::mm peak measured in the same run; and the same forward
// with the run's W4A4KV4 stream hooks (every block Linear's input fake-quantized per token, K
// and V per head), as a ratio to the plain forward (issue 15).
// Prints one JSON object; targets: ratio_to_mm_peak >= 0.6, ratio_a4kv4_to_plain <= 1.3.

#include "bench_timing.h"
#include "jobs/runtime.h"
#include "model/decoder_forward.h"
#include "model/weight_layout.h"
#include "quant/activation_quantizer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

int main(int, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads(); // as the quantscope executable does
    torch::NoGradGuard noGrad;
    const std::int64_t hidden = 1024, layers = 8, heads = 16, ff = 2816, vocab = 32000, seqLen = 512;
    const std::string configText =
        nlohmann::json{{"model_type", "llama"},          {"hidden_size", hidden},        {"intermediate_size", ff},
                       {"num_hidden_layers", layers},    {"num_attention_heads", heads}, {"vocab_size", vocab},
                       {"max_position_embeddings", 2048}}
            .dump();
    const core::ModelConfig config = core::parseModelConfig(configText, "bench config");
    torch::manual_seed(0);
    std::vector<core::BlockWeights> blocks(static_cast<std::size_t>(layers));
    std::int64_t linearParams = 0;
    for (auto& block : blocks)
        for (const auto& spec : core::blockTensorSpecs(config)) {
            block.tensors[spec.name] =
                spec.shape.size() == 1 ? torch::ones(spec.shape) : torch::randn(spec.shape) * 0.02;
            if (spec.shape.size() == 2 && &block == &blocks.front())
                linearParams += spec.shape[0] * spec.shape[1];
        }
    core::GlobalWeights globals;
    globals.embedTokens = torch::randn({vocab, hidden}) * 0.02;
    globals.finalNormWeight = torch::ones({hidden});
    globals.lmHead = torch::randn({vocab, hidden}) * 0.02;

    const torch::Tensor ids = torch::randint(0, vocab, {1, seqLen});
    const core::AttentionContext attention(config, seqLen, torch::kCPU);
    const auto forwardWith = [&](const core::ForwardHooks* hooks) {
        torch::Tensor h = core::embedTokens(config, globals, ids);
        for (std::int64_t i = 0; i < layers; ++i)
            h = core::decoderBlock(config, blocks[static_cast<std::size_t>(i)], h, attention,
                                   core::blockPrefix(config, i), hooks);
        core::outputLogits(config, globals, h);
    };
    const auto forward = [&] { forwardWith(nullptr); };
    const double forwardSeconds = bench::bestSeconds(forward, 3, 1);
    core::ActivationQuantSpec a4;
    a4.bits = 4;
    core::KvQuantSpec kv4;
    kv4.bits = 4;
    const core::ForwardHooks w4a4kv4 = core::streamQuantizationHooks(a4, kv4);
    const double quantizedSeconds = bench::bestSeconds([&] { forwardWith(&w4a4kv4); }, 3, 1);
    // Matmul FLOPs: 2·T·(linear params) per block, QKᵀ and PV over the full T×T square, and the head.
    const double flops = static_cast<double>(layers) * (2.0 * seqLen * linearParams + 4.0 * seqLen * seqLen * hidden) +
                         2.0 * seqLen * hidden * vocab;

    // Peak: the largest matmul shape of the same forward ([T, hidden] × [hidden, ff]).
    const torch::Tensor a = torch::randn({seqLen, hidden});
    const torch::Tensor b = torch::randn({hidden, ff});
    const double mmSeconds = bench::bestSeconds([&] { torch::mm(a, b); }, 10, 1);
    const double mmFlops = 2.0 * seqLen * hidden * ff;

    const double achieved = flops / forwardSeconds / 1e9;
    const double peak = mmFlops / mmSeconds / 1e9;
    const nlohmann::json report = {{"benchmark", "bench_forward"},
                                   {"threads", torch::get_num_threads()},
                                   {"seq_len", seqLen},
                                   {"tokens_per_second", seqLen / forwardSeconds},
                                   {"forward_seconds", forwardSeconds},
                                   {"forward_gflops", achieved},
                                   {"mm_peak_gflops", peak},
                                   {"ratio_to_mm_peak", achieved / peak},
                                   {"target_ratio", 0.6},
                                   {"forward_a4kv4_seconds", quantizedSeconds},
                                   {"ratio_a4kv4_to_plain", quantizedSeconds / forwardSeconds},
                                   {"target_ratio_a4kv4", 1.3}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
