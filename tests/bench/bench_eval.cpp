// bench_eval: perplexity-evaluation throughput (issue 14), the code path of `quantscope eval`
// (core::evaluatePerplexity on a DecoderModel read from a checkpoint directory), for
//   - the bundled brown-llama (hidden 256, 6 blocks, vocab 2048, seq 512), and
//   - a 260 K-parameter LLaMA of the shape of the smallest public TinyStories model
//     (hidden 64, intermediate 172, 5 blocks, 8 heads / 4 KV heads, vocab 512, seq 512),
//     random weights written to a temporary directory.
// Each as achieved matmul GFLOP/s relative to a torch::mm peak measured in the same run at
// the eval's largest product ([windows·T, hidden] × [hidden, intermediate]), the kernel's share
// of the CPU time (sys / user, from getrusage), and where the time goes (the Linears and the
// head, the attention core, everything else), each part timed alone on the same shapes.
// Prints one JSON object. Targets: bundled ratio >= 0.6; sys/user <= 0.15.

#include "bench_timing.h"
#include "eval/perplexity.h"
#include "io/tensor_io.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"
#include "model/decoder_model.h"
#include "model/weight_layout.h"

#include <nlohmann/json.hpp>


#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

double bestOf(int repeats, const std::function<void()>& work)
{
    return bench::bestSeconds(work, repeats, 1);
}

// Matmul FLOPs per evaluated window: the Linears (2 per weight per token), QKᵀ and PV over the
// full T×T square as computed, and the head.
double flopsPerWindow(const core::ModelConfig& c, std::int64_t seqLen)
{
    double linearParams = 0;
    for (const auto& spec : core::blockTensorSpecs(c))
        if (spec.shape.size() == 2)
            linearParams += static_cast<double>(spec.shape[0] * spec.shape[1]);
    const double t = static_cast<double>(seqLen);
    const double attention = 4.0 * t * t * static_cast<double>(c.numHeads * c.headDim);
    return static_cast<double>(c.numLayers) * (2.0 * t * linearParams + attention) +
           2.0 * t * static_cast<double>(c.hiddenSize * c.vocabSize);
}

std::string writeTinyTinyStoriesShape(const std::string& dir)
{
    const nlohmann::json config = {{"model_type", "llama"},    {"hidden_size", 64},
                                   {"intermediate_size", 172}, {"num_hidden_layers", 5},
                                   {"num_attention_heads", 8}, {"num_key_value_heads", 4},
                                   {"vocab_size", 512},        {"max_position_embeddings", 512},
                                   {"rms_norm_eps", 1e-5},     {"tie_word_embeddings", false}};
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/config.json") << config.dump(2);
    const core::ModelConfig c = core::parseModelConfig(config.dump(), "tiny config");
    torch::manual_seed(0);
    std::map<std::string, torch::Tensor> tensors;
    auto add = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
        tensors[name] = shape.size() == 1 ? torch::ones(shape) : torch::randn(shape) * 0.05;
    };
    for (const auto& spec : core::globalTensorSpecs(c))
        add(spec.name, spec.shape);
    for (std::int64_t i = 0; i < c.numLayers; ++i)
        for (const auto& spec : core::blockTensorSpecs(c))
            add(core::blockPrefix(c, i) + spec.name, spec.shape);
    core::writeSafetensors(dir + "/model.safetensors", tensors);
    return dir;
}

struct EvalMeasurement {
    nlohmann::json report;
    double seconds = 0;
};

EvalMeasurement measureEval(const std::string& name, const std::string& modelDir, std::int64_t windows,
                            std::int64_t seqLen, double peakGflops)
{
    const core::DecoderModel model(modelDir);
    const core::ModelConfig& c = model.config();
    torch::manual_seed(1);
    const torch::Tensor idsTensor = torch::randint(0, c.vocabSize, {windows * seqLen}, torch::kInt64);
    const std::vector<std::int64_t> ids(idsTensor.data_ptr<std::int64_t>(),
                                        idsTensor.data_ptr<std::int64_t>() + idsTensor.numel());
    core::PerplexityOptions options;
    options.seqLen = seqLen;
    core::evaluatePerplexity(model, std::vector<std::int64_t>(ids.begin(), ids.begin() + seqLen), options); // warm-up
    const bench::CpuTimes before = bench::cpuTimesNow();
    core::evaluatePerplexity(model, ids, options);
    const bench::CpuTimes after = bench::cpuTimesNow();
    const double seconds = after.wall - before.wall;
    const double gflops = flopsPerWindow(c, seqLen) * static_cast<double>(windows) / seconds / 1e9;
    EvalMeasurement m;
    m.seconds = seconds;
    m.report = {{"model", name},
                {"windows", windows},
                {"seq_len", seqLen},
                {"seconds", seconds},
                {"tokens_per_second", static_cast<double>(windows * seqLen) / seconds},
                {"matmul_gflops", gflops},
                {"ratio_to_mm_peak", gflops / peakGflops},
                {"user_seconds", after.user - before.user},
                {"sys_seconds", after.sys - before.sys},
                {"sys_over_user", (after.sys - before.sys) / std::max(1e-9, after.user - before.user)}};
    return m;
}

// Where a model's eval time goes: each part of one batch's forward alone, on the shapes
// evaluatePerplexity uses (core::defaultEvalBatchWindows windows of seqLen per forward).
nlohmann::json breakdown(const std::string& modelDir, std::int64_t seqLen, double evalSecondsPerWindow)
{
    torch::NoGradGuard noGrad;
    const core::DecoderModel model(modelDir);
    const core::ModelConfig& c = model.config();
    const std::int64_t batch = core::defaultEvalBatchWindows(c, seqLen);
    const torch::Tensor x = torch::randn({batch, seqLen, c.hiddenSize});
    const torch::Tensor xFf = torch::randn({batch, seqLen, c.intermediateSize});
    const core::BlockWeights& w = model.block(0);
    const double linears = bestOf(3, [&] {
        for (std::int64_t layer = 0; layer < c.numLayers; ++layer)
            for (const auto& spec : core::blockTensorSpecs(c))
                if (spec.shape.size() == 2)
                    torch::nn::functional::linear(spec.shape[1] == c.hiddenSize ? x : xFf, w.at(spec.name));
        torch::matmul(x, model.globals().lmHead.t());
    });
    const torch::Tensor q = torch::randn({batch, c.numHeads, seqLen, c.headDim});
    const torch::Tensor kv = torch::randn({batch, c.numKvHeads, seqLen, c.headDim});
    const core::AttentionContext attention(c, seqLen, torch::kCPU);
    // One window at a time, as core's attend() runs these shapes (its scores chunk is 8 MB).
    const double attentionCore = bestOf(3, [&] {
        for (std::int64_t layer = 0; layer < c.numLayers; ++layer) {
            const torch::Tensor k = kv.repeat_interleave(c.numHeads / c.numKvHeads, 1);
            for (std::int64_t w = 0; w < batch; ++w) {
                torch::Tensor scores = torch::matmul(q.narrow(0, w, 1), k.narrow(0, w, 1).transpose(-2, -1));
                scores.add_(attention.causalMask());
                torch::matmul(torch::softmax(scores, -1), k.narrow(0, w, 1));
            }
        }
    });
    const double perBatch = evalSecondsPerWindow * static_cast<double>(batch);
    return {{"batch_windows", batch},
            {"forward_seconds_per_batch", perBatch},
            {"linears_and_head_seconds", linears},
            {"attention_core_seconds", attentionCore},
            {"other_seconds", std::max(0.0, perBatch - linears - attentionCore)},
            {"linears_and_head_share", linears / perBatch},
            {"attention_core_share", attentionCore / perBatch},
            {"other_share", std::max(0.0, perBatch - linears - attentionCore) / perBatch},
            {"note", "other = norms, RoPE, SiLU, residual adds, cross-entropy: memory-bound element-wise work"}};
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads(); // as the quantscope executable does
    torch::NoGradGuard noGrad;
    const std::int64_t windows = argc > 1 ? std::stoll(argv[1]) : 40;
    const std::int64_t seqLen = 512;

    const core::DecoderModel bundled(core::defaultModelDirectory());
    const core::ModelConfig& bc = bundled.config();
    const std::int64_t rows = core::defaultEvalBatchWindows(bc, seqLen) * seqLen; // one eval batch
    const torch::Tensor a = torch::randn({rows, bc.hiddenSize});
    const torch::Tensor b = torch::randn({bc.hiddenSize, bc.intermediateSize});
    const double mmSeconds = bestOf(10, [&] { torch::mm(a, b); });
    const double peak = 2.0 * static_cast<double>(rows * bc.hiddenSize * bc.intermediateSize) / mmSeconds / 1e9;

    const std::string tinyDir =
        writeTinyTinyStoriesShape((std::filesystem::temp_directory_path() / "quantscope-bench-eval-tiny").string());
    const EvalMeasurement bundledEval =
        measureEval("brown-llama (bundled)", core::defaultModelDirectory(), windows, seqLen, peak);
    const EvalMeasurement tinyEval = measureEval("tinystories-260k shape", tinyDir, windows, seqLen, peak);
    nlohmann::json bundledReport = bundledEval.report;
    bundledReport["breakdown"] =
        breakdown(core::defaultModelDirectory(), seqLen, bundledEval.seconds / static_cast<double>(windows));
    nlohmann::json tiny = tinyEval.report;
    tiny["breakdown"] = breakdown(tinyDir, seqLen, tinyEval.seconds / static_cast<double>(windows));
    std::filesystem::remove_all(tinyDir);

    const nlohmann::json report = {
        {"benchmark", "bench_eval"},   {"runtime", core::runtimeDescription()},
        {"mm_peak_gflops", peak},      {"mm_peak_shape", {rows, bc.hiddenSize, bc.intermediateSize}},
        {"bundled", bundledReport},    {"tiny", tiny},
        {"target_ratio_bundled", 0.6}, {"target_sys_over_user", 0.15}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
