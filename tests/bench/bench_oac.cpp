// bench_oac: seconds of the Hessians a GPTQ-style run needs on the bundled model, through the
// block pipeline, for each Hessian source (issue 16): 2XXᵀ alone (the baseline), OAC's Ĥ with
// the one-shot schedule (every Ĥ on the FP model, one backward per window) and with the
// sequential schedule (one backward per window and block). The method quantizes nothing, so the
// three runs differ only in the Hessians. Reports each run's seconds and its ratio to the
// baseline (target: one-shot ≤ 3×). Prints one JSON object.
//   bench_oac [SAMPLES=32] [SEQ_LEN=128]

#include "bench_timing.h"
#include "calib/block_pipeline.h"
#include "calib/calibration_method.h"
#include "calib/hessian_source.h"
#include "jobs/resources.h"
#include "jobs/runtime.h"
#include "model/decoder_model.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace {

// Computes every Linear's Hessians as GPTQ would, and leaves the weights as they are.
class HessiansOnly : public core::CalibrationMethod {
public:
    explicit HessiansOnly(core::HessianSourceOptions options) : m_provider(options) {}
    std::string name() const override { return "hessians-only"; }
    void prepareModel(core::ModelContext& model) override { m_provider.prepareModel(model); }
    void calibrateBlock(core::BlockCalibrationContext& ctx) override
    {
        m_provider.beginBlock(ctx);
        for (const auto& group : core::sequentialLinearGroups(ctx.config.family))
            m_provider.forGroup(ctx, group);
    }

private:
    core::HessianProvider m_provider;
};

double runSeconds(const std::string& modelDir, const torch::Tensor& ids, core::HessianSourceOptions options)
{
    core::DecoderModel model(modelDir);
    HessiansOnly method(options);
    core::PipelineOptions pipeline;
    pipeline.batchSize = 8;
    return bench::bestSeconds([&] { core::runBlockPipeline(model, ids, method, pipeline); }, 1);
}

} // namespace

int main(int argc, char** argv)
{
    core::relaunchWithThreadPoolEnvironment(argv);
    core::configureThreads();
    const std::int64_t samples = argc > 1 ? std::stoll(argv[1]) : 32;
    const std::int64_t seqLen = argc > 2 ? std::stoll(argv[2]) : 128;
    const std::string modelDir = core::defaultModelDirectory();
    torch::manual_seed(0);
    const std::int64_t vocab = core::DecoderModel(modelDir).config().vocabSize;
    const torch::Tensor ids = torch::randint(vocab, {samples, seqLen}, torch::kInt64);

    core::HessianSourceOptions layerWise;
    core::HessianSourceOptions oneShot{core::HessianSource::OutputAdaptive, core::OacSchedule::OneShot};
    core::HessianSourceOptions sequential{core::HessianSource::OutputAdaptive, core::OacSchedule::Sequential};
    const double baseline = runSeconds(modelDir, ids, layerWise);
    const double oneShotSeconds = runSeconds(modelDir, ids, oneShot);
    const double sequentialSeconds = runSeconds(modelDir, ids, sequential);
    nlohmann::json report{{"benchmark", "bench_oac"},
                          {"model", modelDir},
                          {"samples", samples},
                          {"seq_len", seqLen},
                          {"xtx_seconds", baseline},
                          {"oac_one_shot_seconds", oneShotSeconds},
                          {"oac_sequential_seconds", sequentialSeconds},
                          {"one_shot_ratio", oneShotSeconds / baseline},
                          {"sequential_ratio", sequentialSeconds / baseline},
                          {"target_one_shot_ratio", 3.0},
                          {"one_shot_within_target", oneShotSeconds / baseline <= 3.0}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
