#include "synthetic_runs.h"

#include "store/workspace.h"

namespace testsupport {

void fillWorkspaceWithRuns(const std::string& directory, int runs)
{
    core::Workspace workspace(directory);
    for (int i = 1; i <= runs; ++i) {
        const char* method = i % 3 == 0 ? "omniquant" : i % 3 == 1 ? "rtn" : "gptq";
        std::string config = std::string(R"({"method": ")") + method + R"(", "weights": {"bits": )" +
                             std::to_string(2 + i % 3) + R"(, "group_size": 128, "symmetric": false})";
        if (i % 4 == 0) // W/A/KV runs, as OSTQuant's W4A4KV4 tables have them
            config += R"(, "activations": {"bits": 4}, "kv": {"bits": 4})";
        config += i % 3 == 0 ? R"(, "loss": [{"type": "mse"}, {"type": "sw"}]})" : "}";
        const std::int64_t id = workspace.catalog().createRun(
            {"run " + std::to_string(i), method, config, "/models/brown-llama", "fingerprint"});
        workspace.catalog().setRunStatus(id, i % 50 == 0 ? core::RunStatus::Failed : core::RunStatus::Finished,
                                         i % 50 == 0 ? "out of memory" : "");
        workspace.catalog().addDatasetMetrics(id, {{"brown_test", "perplexity", 10.0 + (i * 37 % 100) / 10.0}});
    }
}

} // namespace testsupport
