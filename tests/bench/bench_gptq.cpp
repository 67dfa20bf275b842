// bench_gptq: GPTQ on one 4096×4096 Linear with 32 768 calibration tokens (issue 5):
// Hessian accumulation (2·n·d² FLOP) and the quantization itself (Cholesky,
// inverse, Cholesky of the inverse ≈ 5/3·d³, lazy block updates ≈ rows·d²), as
// achieved GFLOP/s against a torch::mm peak measured in the same run.
// Prints one JSON object; target: overall ratio >= 0.5.

#include "calib/gptq.h"
#include "calib/hessian.h"
#include "jobs/runtime.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

namespace {

double secondsOf(const std::function<void()>& work)
{
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    torch::NoGradGuard noGrad;
    // `bench_gptq 1024 8192` runs a smaller case for a quick look.
    const std::int64_t d = argc > 1 ? std::stoll(argv[1]) : 4096;
    const std::int64_t tokens = argc > 2 ? std::stoll(argv[2]) : 32768;
    const std::int64_t batch = 2048;
    torch::manual_seed(0);

    // Peak: the best of a few square products of the layer's size.
    const torch::Tensor a = torch::randn({d, d}), b = torch::randn({d, d});
    torch::mm(a, b);
    double mmSeconds = 1e30;
    for (int i = 0; i < 3; ++i)
        mmSeconds = std::min(mmSeconds, secondsOf([&] { torch::mm(a, b); }));
    const double peak = 2.0 * d * d * d / mmSeconds / 1e9;

    // Inputs with correlated channels (a low-rank mix plus noise), generated per batch
    // outside the timed region so only the accumulation is measured.
    const torch::Tensor mix = torch::randn({d / 8, d}) / std::sqrt(static_cast<double>(d / 8));
    std::vector<torch::Tensor> batches;
    for (std::int64_t first = 0; first < tokens; first += batch)
        batches.push_back(torch::mm(torch::randn({batch, d / 8}), mix) + 0.1 * torch::randn({batch, d}));
    core::HessianAccumulator accumulator(d);
    const double hessianSeconds = secondsOf([&] {
        for (const auto& x : batches)
            accumulator.add(x);
    });
    const torch::Tensor H = accumulator.hessian();
    batches.clear();

    const torch::Tensor W = torch::randn({d, d}) * 0.02;
    const core::WeightQuantSpec spec{3, 128, false, core::QuantDialect::Gptq};
    core::GptqResult result;
    const double gptqSeconds = secondsOf([&] { result = core::gptqQuantize(W, H, spec); });

    const double dd = static_cast<double>(d);
    const double hessianFlop = 2.0 * static_cast<double>(tokens) * dd * dd;
    const double gptqFlop = 5.0 / 3.0 * dd * dd * dd + dd * dd * dd; // factorizations + lazy updates
    const double hessianRate = hessianFlop / hessianSeconds / 1e9;
    const double gptqRate = gptqFlop / gptqSeconds / 1e9;
    const double overallRate = (hessianFlop + gptqFlop) / (hessianSeconds + gptqSeconds) / 1e9;
    const nlohmann::json report{{"benchmark", "gptq"},
                                {"columns", d},
                                {"rows", d},
                                {"tokens", tokens},
                                {"threads", torch::get_num_threads()},
                                {"mm_peak_gflops", peak},
                                {"hessian_seconds", hessianSeconds},
                                {"hessian_gflops", hessianRate},
                                {"quantize_seconds", gptqSeconds},
                                {"quantize_gflops", gptqRate},
                                {"total_seconds", hessianSeconds + gptqSeconds},
                                {"ratio_hessian", hessianRate / peak},
                                {"ratio_quantize", gptqRate / peak},
                                {"ratio_overall", overallRate / peak},
                                {"target_ratio_overall", 0.5},
                                {"relative_output_error", core::relativeReconstructionError(W, result.quantized, H)}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
