// Zero-shot scoring as lm-evaluation-harness scores it (issue 19, METHODS.md §10.2):
// - log-likelihoods equal a hand computation from one plain forward of context + continuation,
//   with and without shared contexts, on LLaMA and OPT, including a context longer than the window;
// - the harness's encoding (trailing space moved, split at the context's tokens, BOS policy);
// - metrics: acc vs acc_norm (characters) vs acc_bytes, ties, the harness's stderr;
// - every format's prompt, read from a small file in that format, unicode included, and its errors;
// - a run with tasks stores them; on the bundled model FP beats chance and W2 RTN scores lower.

#include "eval/harness_encoding.h"
#include "eval/loglikelihood.h"
#include "eval/python_text.h"
#include "eval/task_scoring.h"
#include "io/tokenizer.h"
#include "jobs/calibrate_job.h"
#include "jobs/resources.h"
#include "jobs/task_eval_job.h"
#include "jobs/zero_shot_eval.h"
#include "small_run.h"
#include "tiny_model_files.h"
#include "tiny_models.h"
#include "util/error.h"
#include "util/text_file.h"

#include <QtTest>

#include <cmath>
#include <filesystem>

namespace {

// Σ log p(continuation | context) from one forward of the harness's input, computed directly.
double handLoglikelihood(const core::DecoderModel& model, const core::LoglikelihoodRequest& request,
                         std::int64_t maxLength, bool* greedy = nullptr)
{
    std::vector<std::int64_t> all = request.context;
    all.insert(all.end(), request.continuation.begin(), request.continuation.end());
    if (static_cast<std::int64_t>(all.size()) > maxLength + 1)
        all.erase(all.begin(), all.end() - (maxLength + 1));
    const std::vector<std::int64_t> input(all.begin(), all.end() - 1);
    const torch::Tensor logits =
        model.forward(torch::tensor(input, torch::kInt64).unsqueeze(0)).squeeze(0).to(torch::kFloat64);
    const torch::Tensor logp = torch::log_softmax(logits, -1);
    const auto n = static_cast<std::int64_t>(input.size());
    const auto c = static_cast<std::int64_t>(request.continuation.size());
    double sum = 0.0;
    bool allGreedy = true;
    for (std::int64_t k = 0; k < c; ++k) {
        const std::int64_t position = n - c + k;
        const std::int64_t target = request.continuation[static_cast<std::size_t>(k)];
        sum += logp[position][target].item<double>();
        allGreedy = allGreedy && logp[position].argmax().item<std::int64_t>() == target;
    }
    if (greedy)
        *greedy = allGreedy;
    return sum;
}

std::vector<core::LoglikelihoodRequest> sampleRequests(std::int64_t vocab, std::uint64_t seed)
{
    torch::manual_seed(seed);
    const auto ids = [&](std::int64_t n) {
        const torch::Tensor t = torch::randint(0, vocab, {n}, torch::kInt64);
        return std::vector<std::int64_t>(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + n);
    };
    const auto contextA = ids(9), contextB = ids(4);
    // Two contexts with three and two choices (one of a single token), and a lone request.
    return {{contextA, ids(3)}, {contextA, ids(1)}, {contextA, ids(5)},
            {contextB, ids(2)}, {contextB, ids(6)}, {ids(7), ids(2)}};
}

void writeLines(const std::string& path, const std::vector<std::string>& lines)
{
    std::string text;
    for (const auto& line : lines)
        text += line + "\n";
    core::writeFileAtomically(path, text);
}

core::ZeroShotTask load(const std::string& task, const std::string& path, const std::string& labels = {})
{
    return core::loadZeroShotTask(task, path, labels);
}

} // namespace

class TestZeroShot : public QObject {
    Q_OBJECT
private:
    std::string m_dir;

    void checkAgainstHand(const std::string& modelDir, std::int64_t vocab)
    {
        const core::DecoderModel model(modelDir);
        const auto requests = sampleRequests(vocab, 3);
        for (bool share : {true, false}) {
            core::LoglikelihoodOptions options;
            options.maxLength = model.config().maxPositions;
            options.shareContexts = share;
            options.tokensPerBatch = 24; // several batches of several rows
            const auto results = core::scoreLoglikelihoods(model, requests, options);
            QCOMPARE(results.size(), requests.size());
            for (std::size_t i = 0; i < requests.size(); ++i) {
                bool greedy = false;
                const double expected = handLoglikelihood(model, requests[i], options.maxLength, &greedy);
                QVERIFY2(std::abs(results[i].logLikelihood - expected) < 1e-4 * (1.0 + std::abs(expected)),
                         qPrintable(QString("request %1 share %2: %3 vs %4")
                                        .arg(i)
                                        .arg(share)
                                        .arg(results[i].logLikelihood)
                                        .arg(expected)));
                QCOMPARE(results[i].greedy, greedy);
            }
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_dir = testsupport::makeTempDir("zeroshot");
        testsupport::writeTinyLlamaWithTokenizer(m_dir + "/llama", 3);
        testsupport::writeTinyOptWithTokenizer(m_dir + "/opt", 4);
    }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void loglikelihoodsMatchHandComputation()
    {
        checkAgainstHand(m_dir + "/llama", 264);
        checkAgainstHand(m_dir + "/opt", 264);
    }

    void longContextIsTruncatedFromTheLeft()
    {
        const core::DecoderModel model(m_dir + "/llama");
        const std::int64_t window = model.config().maxPositions;
        torch::manual_seed(9);
        const torch::Tensor context = torch::randint(0, 264, {window + 30}, torch::kInt64);
        core::LoglikelihoodRequest request;
        request.context.assign(context.data_ptr<std::int64_t>(), context.data_ptr<std::int64_t>() + context.numel());
        request.continuation = {5, 17, 40};
        core::LoglikelihoodOptions options;
        options.maxLength = window;
        const auto result = core::scoreLoglikelihoods(model, {request}, options);
        // The harness's input: the last window + 1 tokens of context + continuation, less the last.
        QVERIFY(std::abs(result[0].logLikelihood - handLoglikelihood(model, request, window)) < 1e-4);
        // The first tokens do not matter once cut: dropping them changes nothing.
        core::LoglikelihoodRequest shorter = request;
        shorter.context.erase(shorter.context.begin(), shorter.context.begin() + 30);
        QCOMPARE(core::scoreLoglikelihoods(model, {shorter}, options)[0].logLikelihood, result[0].logLikelihood);
        request.continuation.assign(static_cast<std::size_t>(window + 1), 3);
        QVERIFY_THROWS_EXCEPTION(core::Error, core::scoreLoglikelihoods(model, {request}, options));
    }

    void encodesPairsAsTheHarness()
    {
        const auto tokenizer = core::loadTokenizer(m_dir + "/llama");
        const core::HarnessEncoder encoder{*tokenizer, false, 0};
        // The trailing space of the context moves to the continuation.
        const auto moved = core::encodeRequest(encoder, "Question: the cat ", "sat");
        const auto plain = core::encodeRequest(encoder, "Question: the cat", " sat");
        QCOMPARE(moved.context, plain.context);
        QCOMPARE(moved.continuation, plain.continuation);
        QCOMPARE(plain.context, tokenizer->encode("Question: the cat"));
        // The continuation is what the whole string has past the context's own tokens.
        const auto whole = tokenizer->encode("Question: the cat sat");
        QCOMPARE(
            plain.continuation,
            std::vector<std::int64_t>(whole.begin() + static_cast<std::ptrdiff_t>(plain.context.size()), whole.end()));
        // BOS in front of both encodings; an empty context is the prefix token.
        const core::HarnessEncoder withBos{*tokenizer, true, 0};
        const auto bos = core::encodeRequest(withBos, "Question: the cat", " sat");
        QCOMPARE(bos.context.front(), std::int64_t(0));
        QCOMPARE(bos.continuation, plain.continuation);
        const auto empty = core::encodeRequest(encoder, "", " sat");
        QCOMPARE(empty.context, std::vector<std::int64_t>{0});
        QCOMPARE(empty.continuation, tokenizer->encode(" sat"));
        QVERIFY_THROWS_EXCEPTION(core::Error, core::encodeRequest(encoder, "context", ""));
        // tokenizer_config.json decides under the tokenizer policy.
        QVERIFY(core::addsBos(m_dir + "/llama", core::BosPolicy::Tokenizer));
        core::writeFileAtomically(m_dir + "/llama/tokenizer_config.json", R"({"add_bos_token": false})");
        QVERIFY(!core::addsBos(m_dir + "/llama", core::BosPolicy::Tokenizer));
        QVERIFY(core::addsBos(m_dir + "/llama", core::BosPolicy::Always));
        std::filesystem::remove(m_dir + "/llama/tokenizer_config.json");
        QVERIFY(!core::addsBos(m_dir + "/llama", core::BosPolicy::Never));
    }

    void pythonStringSemantics()
    {
        namespace py = core::python;
        QCOMPARE(py::length("naïve café"), std::size_t(10)); // code points, not the 12 bytes
        QCOMPARE(py::capitalize("éCOLE de PARIS"), std::string("École de paris"));
        QCOMPARE(py::strip("\u00a0 text \n"), std::string("text"));
        QCOMPARE(py::rstrip("a b  "), std::string("a b"));
        QCOMPARE(py::removeBracketed("a [x] b [y\nz] c [w]"), std::string("a  b [y\nz] c "));
        QCOMPARE(py::replaceAll("a   b", "  ", " "), std::string("a  b")); // non-overlapping, one pass
        QCOMPARE(py::splitOnSpace("a  b"), (std::vector<std::string>{"a", "", "b"}));
        QVERIFY_THROWS_EXCEPTION(core::Error, py::length("\xff"));
    }

    // Three documents, log-likelihoods set by hand: the second is where acc and acc_norm differ
    // (the long choice has the lower sum but the higher per-character log-likelihood).
    void metricsAsTheHarnessComputesThem()
    {
        const std::string path = m_dir + "/three.jsonl";
        writeLines(path, {R"({"context": "A", "choices": ["x", "yy"], "gold": 0})",
                          R"({"context": "B", "choices": ["ab", "abcdefghij"], "gold": 1})",
                          R"({"context": "C", "choices": ["é", "ee"], "gold": 1})"});
        const core::ZeroShotTask task = load("mine", path);
        QCOMPARE(task.format.name, std::string("jsonl"));
        std::vector<std::vector<core::Loglikelihood>> ll = {
            {{-1.0, false}, {-3.0, false}},  // acc 1, norm: -1 vs -1.5 → 1
            {{-4.0, false}, {-10.0, false}}, // acc 0 (picks 0), norm: -2 vs -1 → 1
            {{-2.0, false},
             {-2.0, false}}}; // tie on acc → first (0, wrong); chars: -2 vs -1 → 1; bytes: -1 vs -1 → tie → 0
        const core::TaskScore score = core::taskMetrics(task, ll);
        QCOMPARE(score.documents, std::int64_t(3));
        const auto* acc = score.find("acc");
        const auto* norm = score.find("acc_norm");
        const auto* bytes = score.find("acc_bytes");
        QVERIFY(acc && norm && bytes);
        QCOMPARE(acc->value, 1.0 / 3.0);
        QCOMPARE(norm->value, 1.0);
        QCOMPARE(bytes->value, 2.0 / 3.0);
        // mean_stderr: sqrt(Σ(x − x̄)² / (n − 1)) / √n
        const double mean = 1.0 / 3.0;
        const double expected = std::sqrt(((1 - mean) * (1 - mean) + 2 * mean * mean) / 2.0) / std::sqrt(3.0);
        QVERIFY(std::abs(acc->standardError - expected) < 1e-12);
        QCOMPARE(norm->standardError, 0.0);
        QVERIFY(acc->reported && norm->reported && !bytes->reported);
    }

    void readsEveryFormat()
    {
        const std::string d = m_dir + "/formats";
        std::filesystem::create_directories(d);
        writeLines(
            d + "/arc.jsonl",
            {R"({"id": "1", "question": {"stem": "Which is wärmer?", "choices": [{"text": "sun", "label": "A"}, {"text": "ice", "label": "B"}]}, "answerKey": "B"})",
             R"({"question": "HF form?", "choices": {"text": ["a", "b", "c"], "label": ["1", "2", "3"]}, "answerKey": "3"})"});
        auto arc = load("arc_easy", d + "/arc.jsonl");
        QCOMPARE(arc.documents.size(), std::size_t(2));
        QCOMPARE(arc.documents[0].requests[0].context, std::string("Question: Which is wärmer?\nAnswer:"));
        QCOMPARE(arc.documents[0].requests[1].continuation, std::string(" ice"));
        QCOMPARE(arc.documents[0].gold, std::int64_t(1));
        QCOMPARE(arc.documents[1].gold, std::int64_t(2));
        auto obqa = load("openbookqa", d + "/arc.jsonl");
        QCOMPARE(obqa.documents[0].requests[0].context, std::string("Which is wärmer?"));

        writeLines(d + "/piqa.jsonl", {R"({"goal": "Open a jar", "sol1": "twist the lid", "sol2": "bake it"})"});
        writeLines(d + "/piqa-labels.lst", {"0"});
        auto piqa = load("piqa", d + "/piqa.jsonl", d + "/piqa-labels.lst");
        QCOMPARE(piqa.documents[0].requests[1].context, std::string("Question: Open a jar\nAnswer:"));
        QCOMPARE(piqa.documents[0].requests[1].continuation, std::string(" bake it"));
        writeLines(d + "/two-labels.lst", {"0", "1"});
        QVERIFY_THROWS_EXCEPTION(core::Error, load("piqa", d + "/piqa.jsonl", d + "/two-labels.lst"));
        QVERIFY_THROWS_EXCEPTION(core::Error, load("piqa", d + "/piqa.jsonl")); // no label anywhere

        writeLines(
            d + "/siqa.jsonl",
            {R"({"context": "Kai ran.", "question": "Why?", "answerA": "late", "answerB": "fun", "answerC": "rain", "label": "2"})"});
        auto siqa = load("siqa", d + "/siqa.jsonl");
        QCOMPARE(siqa.documents[0].requests[0].context, std::string("Q: Kai ran. Why?\nA:"));
        QCOMPARE(siqa.documents[0].gold, std::int64_t(1));

        writeLines(
            d + "/hellaswag.jsonl",
            {R"({"activity_label": "Baking cookies", "ctx_a": "A woman [header] mixes dough.", "ctx_b": "SHE then", "endings": ["puts it in the oven [title] Wait.", "eats  it."], "label": 0})"});
        auto hella = load("hellaswag", d + "/hellaswag.jsonl");
        QCOMPARE(hella.documents[0].requests[0].context, std::string("Baking cookies: A woman mixes dough. She then"));
        QCOMPARE(hella.documents[0].requests[0].continuation, std::string(" puts it in the oven. Wait."));
        QCOMPARE(hella.documents[0].choices[1], std::string("eats it."));

        writeLines(
            d + "/winogrande.jsonl",
            {R"({"sentence": "Ann gave Zoë a book because _ was kind.", "option1": "Ann", "option2": "Zoë", "answer": "2"})"});
        auto wino = load("winogrande", d + "/winogrande.jsonl");
        QCOMPARE(wino.documents[0].requests[1].context, std::string("Ann gave Zoë a book because Zoë"));
        QCOMPARE(wino.documents[0].requests[0].continuation, std::string(" was kind."));
        QCOMPARE(wino.documents[0].requests[1].continuation, std::string(" was kind."));
        QCOMPARE(wino.documents[0].gold, std::int64_t(1));
        QCOMPARE(wino.format.reportedMetrics, std::vector<std::string>{"acc"});

        writeLines(d + "/boolq.jsonl", {R"({"question": "is it true", "passage": "It is.", "answer": true})",
                                        R"({"question": "is it", "passage": "No.", "label": 0})"});
        auto boolq = load("boolq", d + "/boolq.jsonl");
        QCOMPARE(boolq.documents[0].requests[1].context, std::string("It is.\nQuestion: is it true?\nAnswer:"));
        QCOMPARE(boolq.documents[0].requests[1].continuation, std::string(" yes"));
        QCOMPARE(boolq.documents[0].gold, std::int64_t(1));
        QCOMPARE(boolq.documents[1].gold, std::int64_t(0));

        writeLines(d + "/lambada.jsonl", {R"({"text": "the old man looked at the café"})"});
        writeLines(d + "/lambada.txt", {"the old man looked at the café"});
        for (const char* file : {"/lambada.jsonl", "/lambada.txt"}) {
            auto lambada = load("lambada", d + file);
            QCOMPARE(lambada.documents[0].requests.size(), std::size_t(1));
            QCOMPARE(lambada.documents[0].requests[0].context, std::string("the old man looked at the"));
            QCOMPARE(lambada.documents[0].requests[0].continuation, std::string(" café"));
        }

        // Errors name the file and line.
        writeLines(d + "/empty-choice.jsonl", {R"({"context": "c", "choices": ["a", ""], "gold": 0})"});
        try {
            load("mine", d + "/empty-choice.jsonl");
            QFAIL("an empty choice was accepted");
        } catch (const core::Error& e) {
            QVERIFY2(std::string(e.what()).find("empty-choice.jsonl:1: choice 1 is empty") != std::string::npos,
                     e.what());
        }
        writeLines(d + "/bad-gold.jsonl", {"", R"({"context": "c", "choices": ["a", "b"], "gold": 2})"});
        try {
            load("mine", d + "/bad-gold.jsonl");
            QFAIL("a gold index out of range was accepted");
        } catch (const core::Error& e) {
            QVERIFY2(std::string(e.what()).find("bad-gold.jsonl:2") != std::string::npos, e.what());
        }
        writeLines(d + "/truncated.jsonl", {"{\"context\": \"c\", \"choi"});
        QVERIFY_THROWS_EXCEPTION(core::Error, load("mine", d + "/truncated.jsonl"));
        QVERIFY_THROWS_EXCEPTION(core::Error, load("hellaswag", d + "/arc.jsonl"));
        QVERIFY_THROWS_EXCEPTION(core::Error, load("mine", d + "/missing.jsonl"));
        QCOMPARE(core::loadZeroShotTask("mine", m_dir + "/three.jsonl", {}, 2).documents.size(), std::size_t(2));
    }

    void runStoresItsTasks()
    {
        const std::string dir = m_dir + "/run";
        std::filesystem::create_directories(dir);
        const auto files = testsupport::writeSmallRunFiles(dir, 2);
        writeLines(dir + "/mine.jsonl", {R"({"context": "The cat", "choices": ["sat", "flew"], "gold": 0})",
                                         R"({"context": "A dog", "choices": ["ran", "read", "sang"], "gold": 0})"});
        core::RunConfig config = testsupport::smallRunConfig(files, "rtn");
        config.diagnostics.enabled = false;
        config.eval.tasks = {{"mine", dir + "/mine.jsonl", "", 0}};
        core::Workspace workspace(dir + "/ws");
        const auto result = core::runCalibrationJob(workspace, config);
        QCOMPARE(result.tasks.size(), std::size_t(1));
        const auto stored = workspace.catalog().taskMetrics(result.runId);
        // acc, acc_bytes, acc_norm of the run and of the full-precision model
        QCOMPARE(stored.size(), std::size_t(6));
        QCOMPARE(stored[0].task, std::string("mine"));
        QVERIFY(std::any_of(stored.begin(), stored.end(), [](const auto& m) { return m.metric == "fp_acc"; }));
        QCOMPARE(stored[0].documents, std::int64_t(2));
        // `eval --run` on the finished run gives the same numbers.
        core::TaskEvalJobParams params;
        params.tasks = config.eval.tasks;
        params.runId = result.runId;
        params.workspace = dir + "/ws";
        const auto again = core::runTaskEvalJob(params);
        QCOMPARE(again.scores[0].find("acc")->value, result.tasks[0].find("acc")->value);
        // A task file that does not parse fails before a run is created.
        writeLines(dir + "/broken.jsonl", {R"({"context": "x"})"});
        config.eval.tasks = {{"broken", dir + "/broken.jsonl", "", 0}};
        const auto before = workspace.catalog().listRuns().size();
        QVERIFY_THROWS_EXCEPTION(core::Error, core::runCalibrationJob(workspace, config));
        QCOMPARE(workspace.catalog().listRuns().size(), before);
    }

    // The bundled tasks on the bundled model: full precision clearly above chance (1/4) on the
    // cloze task, and W2 RTN below full precision.
    void bundledModelReactsToQuantization()
    {
        const std::vector<core::EvalTaskConfig> tasks = {{"brown_cloze", "", "", 200}};
        core::TaskEvalJobParams fp;
        fp.tasks = tasks;
        fp.modelDir = core::defaultModelDirectory();
        const double fpAcc = core::runTaskEvalJob(fp).scores[0].find("acc")->value;
        QVERIFY2(fpAcc > 0.25 + 3 * std::sqrt(0.25 * 0.75 / 200), qPrintable(QString::number(fpAcc)));

        core::RunConfig config = core::defaultRunConfig("rtn");
        config.weights.bits = 2;
        config.weights.groupSize = 64;
        config.calibration.samples = 1;
        config.eval.maxWindows = 1;
        config.diagnostics.enabled = false;
        config.eval.tasks = tasks;
        core::Workspace workspace(m_dir + "/bundled-ws");
        const auto result = core::runCalibrationJob(workspace, config);
        const double w2Acc = result.tasks[0].find("acc")->value;
        QVERIFY2(w2Acc < fpAcc - 0.05, qPrintable(QString("FP %1, W2 %2").arg(fpAcc).arg(w2Acc)));
    }
};

QTEST_GUILESS_MAIN(TestZeroShot)
#include "test_zero_shot.moc"
