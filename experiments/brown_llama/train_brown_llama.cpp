// Trains the bundled default model: a small LLaMA on the Brown corpus, with
// Quantscope's own decoder code (core/model) and LibTorch's AdamW. Seeded,
// resumable, shows progress; writes a Hugging Face model directory.
//
//   train_brown_llama --train brown_train.txt --test resources/data/brown_test.txt
//                     --test resources/data/kjv_test.txt --out resources/models/brown-llama
//                     --work build/brown-llama-work [--steps N]
//
// Recipe (README.md beside this file): sentencepiece BPE 2048 with byte fallback;
// LLaMA d=256, 6 blocks, 4 heads of 64 with 2 KV heads, SwiGLU 768, context 512;
// AdamW (β 0.9/0.95, wd 0.1 on matrices), linear warm-up then cosine decay to 10 %.

#include "eval/perplexity.h"
#include "io/sentencepiece_library.h"
#include "io/sentencepiece_tokenizer.h"
#include "io/tensor_io.h"
#include "io/tokenizer.h"
#include "jobs/runtime.h"
#include "model/decoder_forward.h"
#include "model/decoder_model.h"
#include "model/weight_layout.h"
#include "quant/weight_quantizer.h"
#include "util/text_file.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace fs = std::filesystem;

namespace {

struct Recipe {
    std::int64_t vocab = 2048;
    std::int64_t hidden = 256;
    std::int64_t intermediate = 768;
    std::int64_t layers = 6;
    std::int64_t heads = 4;
    std::int64_t kvHeads = 2;
    std::int64_t context = 512;
    std::int64_t batch = 8;
    std::int64_t steps = 900;
    std::int64_t warmup = 60;
    double lr = 2e-3;
    double minLrRatio = 0.1;
    double weightDecay = 0.1;
    std::string schedule = "cosine"; ///< cosine | wsd (warm-up, stable, linear decay over the last decayFraction)
    double decayFraction = 0.2;
    bool decayEmbeddings = true; ///< weight decay on the embedding and lm_head too (norms never)
    /// Every training window starts with BOS (as LLaMA-style pre-training starts each sequence),
    /// so the model can learn an attention sink on it: the mechanism behind the massive
    /// activations of real LLMs.
    bool bosEveryWindow = false;
    std::uint64_t seed = 1234;
    std::int64_t checkpointEvery = 50;
};

nlohmann::json configJson(const Recipe& r)
{
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", r.hidden},
            {"intermediate_size", r.intermediate},
            {"num_hidden_layers", r.layers},
            {"num_attention_heads", r.heads},
            {"num_key_value_heads", r.kvHeads},
            {"head_dim", r.hidden / r.heads},
            {"vocab_size", r.vocab},
            {"max_position_embeddings", r.context},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", false},
            {"attention_bias", false},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"torch_dtype", "float32"}};
}

void trainTokenizer(const std::string& trainText, const std::string& outDir, const Recipe& r)
{
    // Deterministic: one thread, no sampling or shuffling of input sentences.
    const std::string args = "--input=" + trainText + " --model_prefix=" + outDir +
                             "/tokenizer --model_type=bpe --vocab_size=" + std::to_string(r.vocab) +
                             " --byte_fallback=true --character_coverage=1.0 --split_digits=true"
                             " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --num_threads=1"
                             " --input_sentence_size=0 --shuffle_input_sentence=false --max_sentence_length=100000"
                             " --minloglevel=2"; // sentencepiece logs via std::cerr, unusable under RTLD_DEEPBIND (see
                                                 // sentencepiece_library.h)
    core::trainSentencePiece(args);
    fs::remove(outDir + "/tokenizer.vocab");
}

// All trainable tensors by their HF names, initialised as GPT-2 does: N(0, 0.02),
// residual output projections scaled by 1/sqrt(2·layers), norms at 1.
std::map<std::string, torch::Tensor> initialWeights(const core::ModelConfig& c, std::uint64_t seed)
{
    torch::manual_seed(seed);
    std::map<std::string, torch::Tensor> weights;
    const double residualStd = 0.02 / std::sqrt(2.0 * static_cast<double>(c.numLayers));
    auto init = [&](const std::string& name, const std::vector<std::int64_t>& shape) {
        torch::Tensor t;
        if (name.find("norm") != std::string::npos)
            t = torch::ones(shape);
        else if (name.find("o_proj") != std::string::npos || name.find("down_proj") != std::string::npos)
            t = torch::randn(shape) * residualStd;
        else
            t = torch::randn(shape) * 0.02;
        weights[name] = t.requires_grad_(true);
    };
    for (const auto& spec : core::globalTensorSpecs(c))
        init(spec.name, spec.shape);
    for (std::int64_t i = 0; i < c.numLayers; ++i)
        for (const auto& spec : core::blockTensorSpecs(c))
            init(core::blockPrefix(c, i) + spec.name, spec.shape);
    return weights;
}

torch::Tensor forwardLogits(const core::ModelConfig& c, const std::map<std::string, torch::Tensor>& w,
                            const torch::Tensor& ids, const core::AttentionContext& attention)
{
    const auto names = core::globalNames(c);
    core::GlobalWeights globals;
    globals.embedTokens = w.at(names.embedTokens);
    globals.finalNormWeight = w.at(names.finalNormWeight);
    globals.lmHead = w.at(names.lmHead);
    torch::Tensor hidden = core::embedTokens(c, globals, ids);
    for (std::int64_t i = 0; i < c.numLayers; ++i) {
        core::BlockWeights block;
        const std::string prefix = core::blockPrefix(c, i);
        for (const auto& spec : core::blockTensorSpecs(c))
            block.tensors[spec.name] = w.at(prefix + spec.name);
        hidden = core::decoderBlock(c, block, hidden, attention, prefix);
    }
    return core::outputLogits(c, globals, hidden);
}

double learningRate(const Recipe& r, std::int64_t step)
{
    if (step < r.warmup)
        return r.lr * static_cast<double>(step + 1) / static_cast<double>(r.warmup);
    if (r.schedule == "wsd") {
        // Warm-up, stable at the peak, then a linear decay to minLrRatio over the last decayFraction.
        const auto decaySteps = static_cast<std::int64_t>(r.decayFraction * static_cast<double>(r.steps));
        const std::int64_t decayStart = r.steps - decaySteps;
        if (step < decayStart)
            return r.lr;
        const double progress =
            static_cast<double>(step - decayStart) / static_cast<double>(std::max<std::int64_t>(1, decaySteps));
        return r.lr * (1.0 - (1.0 - r.minLrRatio) * progress);
    }
    const double progress =
        static_cast<double>(step - r.warmup) / static_cast<double>(std::max<std::int64_t>(1, r.steps - r.warmup));
    return r.lr * (r.minLrRatio + (1.0 - r.minLrRatio) * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

// Batch `step` is a pure function of (seed, step): resuming replays the exact data order.
torch::Tensor sampleBatch(const std::vector<std::int64_t>& tokens, const Recipe& r, std::int64_t step)
{
    std::mt19937_64 generator(r.seed * 1000003ull + static_cast<std::uint64_t>(step));
    std::uniform_int_distribution<std::int64_t> offset(0, static_cast<std::int64_t>(tokens.size()) - r.context - 2);
    torch::Tensor batch = torch::empty({r.batch, r.context + 1}, torch::kInt64);
    auto* out = batch.data_ptr<std::int64_t>();
    for (std::int64_t b = 0; b < r.batch; ++b) {
        const std::int64_t start = offset(generator);
        std::copy(tokens.begin() + start, tokens.begin() + start + r.context + 1, out + b * (r.context + 1));
        if (r.bosEveryWindow)
            out[b * (r.context + 1)] = 1; // replaces the window's first token: BOS (id 1)
    }
    return batch;
}

double unigramPerplexity(const std::vector<std::int64_t>& train, const std::vector<std::int64_t>& test,
                         std::int64_t vocab, std::int64_t seqLen)
{
    // Add-one smoothed token frequencies of the training stream, scored on the
    // same predicted positions as the model's perplexity (all but each window's first).
    std::vector<double> counts(static_cast<std::size_t>(vocab), 1.0);
    for (auto id : train)
        counts[static_cast<std::size_t>(id)] += 1.0;
    const double total = static_cast<double>(train.size()) + static_cast<double>(vocab);
    const std::int64_t windows = static_cast<std::int64_t>(test.size()) / seqLen;
    double nll = 0;
    for (std::int64_t w = 0; w < windows; ++w)
        for (std::int64_t t = 1; t < seqLen; ++t)
            nll -= std::log(counts[static_cast<std::size_t>(test[w * seqLen + t])] / total);
    return std::exp(nll / static_cast<double>(windows * (seqLen - 1)));
}

// Outlier channels of every Linear's input, the property that smoothing and rotations exist
// for: per input channel the largest |x| over the first windows of `ids`, then that channel
// maximum over its median across channels. Returns {layer: ratio} and the largest ratio.
nlohmann::json outlierStatistics(const std::string& modelDir, const std::vector<std::int64_t>& ids, std::int64_t seqLen)
{
    torch::NoGradGuard noGrad;
    const core::DecoderModel model(modelDir);
    const std::int64_t windows = std::min<std::int64_t>(8, static_cast<std::int64_t>(ids.size()) / seqLen);
    const torch::Tensor batch =
        torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.begin() + windows * seqLen)).view({windows, seqLen});
    std::map<std::string, torch::Tensor> channelMax;
    const core::ForwardHooks observer =
        core::observing([&](const std::string& name, const torch::Tensor& input, const torch::Tensor&) {
            channelMax[name] = input.abs().reshape({-1, input.size(-1)}).amax(0);
        });
    model.forward(batch, &observer);
    nlohmann::json ratios = nlohmann::json::object();
    double largest = 0;
    std::string largestLayer;
    for (const auto& [name, maxima] : channelMax) {
        const double ratio = maxima.max().item<double>() / maxima.median().item<double>();
        ratios[name] = ratio;
        if (ratio > largest) {
            largest = ratio;
            largestLayer = name;
        }
    }
    return {{"max_over_median_channel_absmax", ratios}, {"largest", largest}, {"largest_layer", largestLayer}};
}

void writeModel(const std::string& outDir, const Recipe& r, const std::map<std::string, torch::Tensor>& weights)
{
    std::map<std::string, torch::Tensor> detached;
    for (const auto& [name, t] : weights)
        detached[name] = t.detach();
    core::writeSafetensors(outDir + "/model.safetensors", detached, core::StorageType::F32, {{"format", "pt"}});
    core::writeFileAtomically(outDir + "/config.json", configJson(r).dump(2) + "\n");
    const nlohmann::json tokenizerConfig = {{"tokenizer_class", "LlamaTokenizer"},
                                            {"add_bos_token", true},
                                            {"add_eos_token", false},
                                            {"bos_token", "<s>"},
                                            {"eos_token", "</s>"},
                                            {"unk_token", "<unk>"},
                                            {"model_max_length", r.context}};
    core::writeFileAtomically(outDir + "/tokenizer_config.json", tokenizerConfig.dump(2) + "\n");
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    CLI::App cli{"Train the bundled brown-llama model"};
    Recipe r;
    std::string trainPath, outDir, workDir;
    std::vector<std::string> testPaths;
    int threads = 0;
    cli.add_option("--train", trainPath, "Training text")->required()->check(CLI::ExistingFile);
    cli.add_option("--test", testPaths, "Held-out texts to report")->check(CLI::ExistingFile);
    cli.add_option("--out", outDir, "Output HF model directory")->required();
    cli.add_option("--work", workDir, "Checkpoints and logs (resume from here)")->required();
    cli.add_option("--steps", r.steps, "Optimizer steps");
    cli.add_option("--hidden", r.hidden, "Hidden size");
    cli.add_option("--intermediate", r.intermediate, "MLP intermediate size");
    cli.add_option("--layers", r.layers, "Decoder blocks");
    cli.add_option("--heads", r.heads, "Attention heads");
    cli.add_option("--kv-heads", r.kvHeads, "KV heads");
    cli.add_option("--batch", r.batch, "Windows per step");
    cli.add_option("--warmup", r.warmup, "Warm-up steps");
    cli.add_option("--lr", r.lr, "Peak learning rate");
    cli.add_option("--min-lr-ratio", r.minLrRatio, "Final learning rate / peak");
    cli.add_option("--weight-decay", r.weightDecay, "AdamW weight decay on matrices (never on norms)");
    cli.add_option("--schedule", r.schedule, "cosine or wsd")->check(CLI::IsMember({"cosine", "wsd"}));
    cli.add_option("--decay-fraction", r.decayFraction, "wsd: fraction of the steps spent decaying");
    cli.add_option("--decay-embeddings", r.decayEmbeddings, "Weight decay on embedding and lm_head (true/false)");
    cli.add_option("--seed", r.seed, "Seed of weights and data order");
    cli.add_option("--bos-every-window", r.bosEveryWindow, "Start every training window with BOS (true/false)");
    cli.add_option("--threads", threads, "Torch threads (0 = all cores)");
    CLI11_PARSE(cli, argc, argv);

    try {
        if (threads > 0)
            torch::set_num_threads(threads);
        fs::create_directories(outDir);
        fs::create_directories(workDir);
        if (!fs::exists(outDir + "/tokenizer.model")) {
            std::cerr << "training tokenizer …\n";
            trainTokenizer(trainPath, outDir, r);
        }
        const core::SentencePieceTokenizer tokenizer(outDir + "/tokenizer.model");
        const std::vector<std::int64_t> tokens = core::encodeWithBos(tokenizer, core::readTextFile(trainPath), 1);
        std::cerr << "train tokens: " << tokens.size() << "\n";

        const core::ModelConfig config = core::parseModelConfig(configJson(r).dump(), "recipe");
        std::map<std::string, torch::Tensor> weights = initialWeights(config, r.seed);
        std::vector<torch::Tensor> decay, noDecay;
        std::vector<torch::Tensor> matrices; // gradient clipping covers these (norm weights never were)
        for (auto& [name, t] : weights) {
            const bool global = name.find("embed_tokens") != std::string::npos || name == "lm_head.weight";
            (t.dim() >= 2 && (r.decayEmbeddings || !global) ? decay : noDecay).push_back(t);
            if (t.dim() >= 2)
                matrices.push_back(t);
        }
        std::vector<torch::optim::OptimizerParamGroup> groups;
        groups.emplace_back(decay,
                            std::make_unique<torch::optim::AdamWOptions>(
                                torch::optim::AdamWOptions(r.lr).betas({0.9, 0.95}).weight_decay(r.weightDecay)));
        groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                         torch::optim::AdamWOptions(r.lr).betas({0.9, 0.95}).weight_decay(0.0)));
        torch::optim::AdamW optimizer(groups);

        std::int64_t startStep = 0;
        const std::string checkpoint = workDir + "/checkpoint.pt";
        const std::string curvePath = workDir + "/training_curve.csv";
        if (fs::exists(checkpoint)) {
            torch::serialize::InputArchive archive;
            archive.load_from(checkpoint);
            for (auto& [name, t] : weights) {
                torch::Tensor stored;
                archive.read(name, stored);
                torch::NoGradGuard noGrad;
                t.copy_(stored);
            }
            torch::Tensor step;
            archive.read("step", step);
            startStep = step.item<std::int64_t>();
            torch::serialize::InputArchive optimizerArchive;
            optimizerArchive.load_from(workDir + "/optimizer.pt");
            optimizer.load(optimizerArchive);
            std::cerr << "resumed at step " << startStep << "\n";
        } else {
            std::ofstream(curvePath) << "step,loss,lr,tokens,seconds\n";
        }

        const core::AttentionContext attention(config, r.context, torch::kCPU);
        const auto start = std::chrono::steady_clock::now();
        std::ofstream curve(curvePath, std::ios::app);
        double smoothed = 0;
        for (std::int64_t step = startStep; step < r.steps; ++step) {
            const double lr = learningRate(r, step);
            for (auto& group : optimizer.param_groups())
                static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
            const torch::Tensor batch = sampleBatch(tokens, r, step);
            const torch::Tensor inputs = batch.narrow(1, 0, r.context);
            const torch::Tensor targets = batch.narrow(1, 1, r.context);
            optimizer.zero_grad();
            const torch::Tensor logits = forwardLogits(config, weights, inputs, attention);
            const torch::Tensor loss =
                torch::nn::functional::cross_entropy(logits.reshape({-1, r.vocab}), targets.reshape({-1}));
            loss.backward();
            torch::nn::utils::clip_grad_norm_(matrices, 1.0);
            optimizer.step();

            const double value = loss.item<double>();
            smoothed = step == startStep ? value : 0.95 * smoothed + 0.05 * value;
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double perStep = seconds / static_cast<double>(step - startStep + 1);
            curve << step + 1 << "," << value << "," << lr << "," << (step + 1) * r.batch * r.context << "," << seconds
                  << "\n";
            std::fprintf(stderr, "\rstep %lld/%lld  loss %.3f (smoothed %.3f)  lr %.2e  %.2f s/step  ETA %.0f min   ",
                         static_cast<long long>(step + 1), static_cast<long long>(r.steps), value, smoothed, lr,
                         perStep, perStep * static_cast<double>(r.steps - step - 1) / 60.0);
            if ((step + 1) % r.checkpointEvery == 0 || step + 1 == r.steps) {
                curve.flush();
                torch::serialize::OutputArchive archive;
                for (const auto& [name, t] : weights)
                    archive.write(name, t.detach());
                archive.write("step", torch::tensor(step + 1));
                archive.save_to(checkpoint + ".partial");
                torch::serialize::OutputArchive optimizerArchive;
                optimizer.save(optimizerArchive);
                optimizerArchive.save_to(workDir + "/optimizer.pt");
                fs::rename(checkpoint + ".partial", checkpoint);
            }
        }
        std::cerr << "\n";
        const double trainingSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        writeModel(outDir, r, weights);

        // Report: FP perplexity, a unigram baseline and RTN sensitivity on each held-out text.
        nlohmann::json report = {{"recipe",
                                  {{"steps", r.steps},
                                   {"batch", r.batch},
                                   {"context", r.context},
                                   {"hidden", r.hidden},
                                   {"intermediate", r.intermediate},
                                   {"layers", r.layers},
                                   {"heads", r.heads},
                                   {"kv_heads", r.kvHeads},
                                   {"lr", r.lr},
                                   {"min_lr_ratio", r.minLrRatio},
                                   {"warmup", r.warmup},
                                   {"weight_decay", r.weightDecay},
                                   {"decay_embeddings", r.decayEmbeddings},
                                   {"schedule", r.schedule},
                                   {"decay_fraction", r.decayFraction},
                                   {"bos_every_window", r.bosEveryWindow},
                                   {"seed", r.seed},
                                   {"parameters", core::parameterCount(config)},
                                   {"train_tokens", tokens.size()},
                                   {"tokens_per_parameter", static_cast<double>(r.steps * r.batch * r.context) /
                                                                static_cast<double>(core::parameterCount(config))},
                                   {"training_seconds", trainingSeconds}}}};
        const std::string rtnDir = workDir + "/rtn";
        fs::create_directories(rtnDir);
        fs::copy_file(outDir + "/config.json", rtnDir + "/config.json", fs::copy_options::overwrite_existing);
        const std::vector<std::tuple<std::string, int, std::int64_t>> settings{{"fp32", 0, 0},
                                                                               {"rtn_w8_per_channel", 8, -1},
                                                                               {"rtn_w4_g128", 4, 128},
                                                                               {"rtn_w3_g128", 3, 128},
                                                                               {"rtn_w2_g64", 2, 64}};
        for (const auto& [label, bits, group] : settings) {
            std::map<std::string, torch::Tensor> quantized;
            for (const auto& [name, t] : weights) {
                const bool isBlockLinear = name.find("_proj.weight") != std::string::npos;
                quantized[name] = bits > 0 && isBlockLinear
                                      ? core::quantizeRtn(t.detach(), {bits, group, false, core::QuantDialect::Gptq})
                                      : t.detach();
            }
            core::writeSafetensors(rtnDir + "/model.safetensors", quantized);
            const core::DecoderModel model(rtnDir);
            for (const auto& path : testPaths) {
                const auto ids = core::encodeWithBos(tokenizer, core::readTextFile(path), 1);
                core::PerplexityOptions options;
                options.seqLen = r.context;
                const auto result = core::evaluatePerplexity(model, ids, options);
                const std::string textName = fs::path(path).stem().string();
                report["perplexity"][textName][label] = result.perplexity;
                report["perplexity"][textName]["tokens"] = result.tokens;
                if (bits == 0)
                    report["perplexity"][textName]["unigram"] = unigramPerplexity(tokens, ids, r.vocab, r.context);
                std::cerr << textName << " " << label << ": " << result.perplexity << "\n";
            }
        }
        if (!testPaths.empty())
            report["outliers"] = outlierStatistics(
                outDir, core::encodeWithBos(tokenizer, core::readTextFile(testPaths.front()), 1), r.context);
        core::writeFileAtomically(workDir + "/report.json", report.dump(2) + "\n");
        std::cout << report.dump(2) << "\n";
    } catch (const std::exception& e) {
        std::cerr << "\ntrain_brown_llama: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
