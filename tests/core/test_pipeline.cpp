// The sequential block pipeline with the rtn and gptq methods: RTN through the
// pipeline equals RTN applied directly; GPTQ beats RTN on the bundled model at
// 3 bits; cancel stops it; metrics cover every Linear in order.

#include "calib/block_pipeline.h"
#include "calib/calibration_data.h"
#include "eval/perplexity.h"
#include "io/tokenizer.h"
#include "jobs/resources.h"
#include "model/weight_layout.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include "pipeline_eval.h"

#include <QtTest>

#include <filesystem>

class TestPipeline : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("pipeline");
        testsupport::writeTinyModel(m_dir + "/tiny", {});
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void rtnThroughThePipelineIsPlainRtn()
    {
        const core::DecoderModel original(m_dir + "/tiny");
        core::DecoderModel model(m_dir + "/tiny");
        const auto method = core::createCalibrationMethod("rtn");
        core::PipelineOptions options;
        options.spec = {3, 16, false, core::QuantDialect::Gptq};
        options.batchSize = 3;
        const auto result = core::runBlockPipeline(model, torch::randint(0, 97, {5, 12}), *method, options);
        QCOMPARE(result.layers.size(), std::size_t(2 * 7));
        QCOMPARE(result.layers.front().name, std::string("model.layers.0.self_attn.q_proj"));
        QCOMPARE(result.layers.back().name, std::string("model.layers.1.mlp.down_proj"));
        for (std::int64_t b = 0; b < 2; ++b)
            for (const auto& name : core::linearShortNames(core::ModelFamily::Llama)) {
                // The working model's blocks are the calibrated ones when the pipeline returns.
                const torch::Tensor fp = original.block(b).at(name + ".weight");
                QVERIFY(torch::equal(model.block(b).at(name + ".weight"), core::quantizeRtn(fp, options.spec)));
            }
        // Tensors the method does not quantize stay the checkpoint's.
        QVERIFY(torch::equal(model.block(1).at("post_attention_layernorm.weight"),
                             original.block(1).at("post_attention_layernorm.weight")));
        for (const auto& layer : result.layers)
            QVERIFY(layer.relativeError > 0.0 && layer.relativeError < 1.0 && layer.sqnrDb > 0.0);
    }

    void gptqBeatsRtnOnTheBundledModel()
    {
        const std::string modelDir = core::defaultModelDirectory();
        core::DecoderModel rtnModel(modelDir), gptqModel(modelDir);
        const auto tokenizer = core::loadTokenizer(modelDir);
        const auto calibration = core::encodeWithBos(
            *tokenizer, core::readTextFile(core::resourceDirectory() + "/data/brown_calibration.txt"), 1);
        const auto test =
            core::encodeWithBos(*tokenizer, core::readTextFile(core::resourceDirectory() + "/data/brown_test.txt"), 1);
        const auto windows = core::drawCalibrationWindows(calibration, 16, 256, 0);
        core::PipelineOptions options;
        options.spec = {3, 128, false, core::QuantDialect::Gptq};
        const auto rtn = core::runBlockPipeline(rtnModel, windows.ids, *core::createCalibrationMethod("rtn"), options);
        const auto gptq =
            core::runBlockPipeline(gptqModel, windows.ids, *core::createCalibrationMethod("gptq"), options);
        double rtnError = 0, gptqError = 0;
        for (std::size_t i = 0; i < rtn.layers.size(); ++i) {
            rtnError += rtn.layers[i].relativeError;
            gptqError += gptq.layers[i].relativeError;
        }
        QVERIFY2(gptqError < rtnError,
                 qPrintable(QString("mean rel. error gptq %1 vs rtn %2").arg(gptqError).arg(rtnError)));
        const double rtnPpl = testsupport::perplexityOf(rtnModel, test, 6);
        const double gptqPpl = testsupport::perplexityOf(gptqModel, test, 6);
        qInfo("W3 g128, 16x256 calibration tokens: rtn ppl %.3f (rel. error sum %.4f), gptq ppl %.3f (%.4f)", rtnPpl,
              rtnError, gptqPpl, gptqError);
        QVERIFY2(gptqPpl < rtnPpl, qPrintable(QString("W3 g128 ppl: gptq %1 vs rtn %2").arg(gptqPpl).arg(rtnPpl)));
    }

    void cancelStopsWithinABlockStep()
    {
        core::DecoderModel model(m_dir + "/tiny");
        const auto method = core::createCalibrationMethod("gptq");
        core::CancelToken cancel;
        int events = 0;
        const auto progress = [&](const core::ProgressEvent&) {
            if (++events == 2)
                cancel.requestCancel();
        };
        core::PipelineOptions options;
        options.spec = {4, -1, false, core::QuantDialect::Gptq};
        QVERIFY_THROWS_EXCEPTION(core::Cancelled, core::runBlockPipeline(model, torch::randint(0, 97, {4, 8}), *method,
                                                                         options, progress, cancel));
        QCOMPARE(events, 2);
    }

    void unknownMethodIsNamed()
    {
        try {
            core::createCalibrationMethod("awq");
            QFAIL("unknown method accepted");
        } catch (const core::Error& e) {
            QVERIFY2(QString(e.what()).contains(
                         "'awq' is unknown (known: rtn, gptq, omniquant, tesseraq, spqr, billm, ostquant, ptq161, lrquant)"),
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "test_pipeline.moc"
