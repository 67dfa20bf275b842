#include "cli/slurm_sweep.h"

#include "cli/sweep_pool.h"
#include "config/run_identity.h"
#include "store/catalog.h"
#include "util/error.h"
#include "util/text_file.h"

#include <nlohmann/json.hpp>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <sys/wait.h>

namespace app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// POSIX shell quoting: the value between single quotes, each ' as '\''.
std::string shellQuoted(const std::string& value)
{
    std::string out = "'";
    for (const char c : value)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

struct CommandOutput {
    int status = -1;
    std::string text; ///< stdout and stderr together
};

CommandOutput runCommand(const std::string& command)
{
    CommandOutput output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
        return output;
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr)
        output.text += buffer.data();
    const int status = ::pclose(pipe);
    output.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    while (!output.text.empty() && (output.text.back() == '\n' || output.text.back() == ' '))
        output.text.pop_back();
    return output;
}

// The #SBATCH lines both jobs share.
std::string commonDirectives(const SlurmSubmitOptions& options)
{
    std::string lines;
    if (!options.partition.empty())
        lines += "#SBATCH --partition=" + options.partition + "\n";
    if (!options.time.empty())
        lines += "#SBATCH --time=" + options.time + "\n";
    return lines;
}

std::string extraArguments(const SlurmSubmitOptions& options)
{
    std::string args;
    for (const std::string& arg : options.extra)
        args += " " + shellQuoted(arg);
    return args;
}

// sbatch --parsable prints "JOBID" or "JOBID;CLUSTER".
std::string submit(const std::string& arguments, const std::string& script)
{
    const CommandOutput output = runCommand("sbatch --parsable" + arguments + " " + shellQuoted(script));
    if (output.status != 0)
        throw core::Error("sbatch " + script + " failed: " + (output.text.empty() ? "no output" : output.text));
    const std::string id =
        output.text.substr(output.text.rfind('\n') == std::string::npos ? 0 : output.text.rfind('\n') + 1);
    return id.substr(0, id.find(';'));
}

} // namespace

SlurmSubmission submitSlurmSweep(const core::SweepPlan& plan, const SlurmSubmitOptions& options, bool dryRun)
{
    // #SBATCH lines take no quoting: a value with blanks would split, one with a newline would
    // add script lines, and '%' in a path is a filename pattern of --output.
    const auto requirePlain = [](const std::string& what, const std::string& value, bool path) {
        for (const char c : value)
            if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == 0x7f || (path && c == '%'))
                throw core::Error("sweep submit: " + what + " '" + value +
                                  "' contains a blank, '%' or a control "
                                  "character, which a batch script line cannot hold");
    };
    requirePlain("--partition", options.partition, false);
    requirePlain("--time", options.time, false);
    requirePlain("--mem", options.memory, false);
    requirePlain("the workspace path", options.workspace, true);
    const std::string directory = core::sweepDirectory(options.workspace, plan.name);
    const std::string logs = directory + "/logs";
    fs::create_directories(logs);
    // The tasks read the saved plan (resolved configs, absolute paths): they run what was
    // submitted wherever they start, whatever the manifest becomes. The manifest is kept beside it.
    core::writeFileAtomically(directory + "/manifest.json", core::readTextFile(plan.manifestPath));
    const std::string manifest = core::writeSweepPlan(plan, options.workspace);
    const std::string executable = quantscopeExecutable();
    const std::size_t runs = plan.runs.size();

    SlurmSubmission submission;
    submission.arrayScript = directory + "/array.sbatch";
    std::string array = "#!/bin/bash\n"
                        "# Quantscope sweep " +
                        plan.name +
                        ": task i calibrates run i of the plan into its own\n"
                        "# shard workspace (shards/<content hash>/). A requeued task resumes from its checkpoint.\n"
                        "#SBATCH --job-name=qs-" +
                        plan.name +
                        "\n"
                        "#SBATCH --array=0-" +
                        std::to_string(runs - 1) +
                        (options.maxParallel > 0 ? "%" + std::to_string(options.maxParallel) : "") +
                        "\n"
                        "#SBATCH --requeue\n"
                        "#SBATCH --open-mode=append\n"
                        "#SBATCH --output=" +
                        logs + "/task_%a.out\n";
    array += commonDirectives(options);
    // The wall-time warning (the task's own --time or the partition's default): checkpoint, requeue.
    array += "#SBATCH --signal=B:TERM@120\n";
    if (!options.memory.empty())
        array += "#SBATCH --mem=" + options.memory + "\n";
    if (options.cpus > 0)
        array += "#SBATCH --cpus-per-task=" + std::to_string(options.cpus) + "\n";
    // exec: the task is the batch step itself, so `--signal=B:` and `scancel --batch` reach it.
    array += "exec " + shellQuoted(executable) + " sweep task " + shellQuoted(manifest) +
             " --index \"$SLURM_ARRAY_TASK_ID\" --shard --workspace " + shellQuoted(options.workspace) + "\n";
    core::writeFileAtomically(submission.arrayScript, array);

    submission.mergeScript = directory + "/merge.sbatch";
    std::string merge = "#!/bin/bash\n"
                        "# Imports the finished shards of sweep " +
                        plan.name +
                        " into the main catalog.\n"
                        "#SBATCH --job-name=qs-" +
                        plan.name +
                        "-merge\n"
                        "#SBATCH --output=" +
                        logs +
                        "/merge.out\n"
                        "#SBATCH --open-mode=append\n";
    merge += commonDirectives(options);
    merge += "exec " + shellQuoted(executable) + " sweep merge --workspace " + shellQuoted(options.workspace) + "\n";
    core::writeFileAtomically(submission.mergeScript, merge);
    if (dryRun)
        return submission;

    submission.arrayJob = submit(extraArguments(options), submission.arrayScript);
    submission.mergeJob =
        submit(" --dependency=afterany:" + submission.arrayJob + extraArguments(options), submission.mergeScript);
    const json record = {
        {"sweep", plan.name}, {"array_job", submission.arrayJob}, {"merge_job", submission.mergeJob}, {"runs", runs}};
    core::writeFileAtomically(directory + "/slurm.json", record.dump(2) + "\n");
    return submission;
}

namespace {

// squeue's view of the jobs: "JOBID_TASK" or "JOBID" → state, for the jobs still known to it.
std::map<std::string, std::string> queueStates(const std::vector<std::string>& jobs)
{
    std::map<std::string, std::string> states;
    std::string list;
    for (const std::string& job : jobs)
        list += (list.empty() ? "" : ",") + job;
    const CommandOutput output = runCommand("squeue -h -r -t all -o '%i|%T|%r' -j " + shellQuoted(list));
    if (output.status != 0)
        return states;
    std::istringstream lines(output.text);
    for (std::string line; std::getline(lines, line);) {
        const std::size_t bar = line.find('|');
        if (bar == std::string::npos)
            continue;
        // "PENDING|JobArrayTaskLimit" → "PENDING (JobArrayTaskLimit)"; no reason: the state alone.
        std::string state = line.substr(bar + 1);
        const std::size_t reason = state.find('|');
        if (reason != std::string::npos)
            state = state.substr(reason + 1) == "None"
                        ? state.substr(0, reason)
                        : state.substr(0, reason) + " (" + state.substr(reason + 1) + ")";
        states[line.substr(0, bar)] = state;
    }
    return states;
}

// The state of the plan's run in its shard: "finished", "running", ... or "not started".
std::string shardState(const std::string& workspace, const std::string& hash)
{
    const fs::path catalog = fs::path(core::shardDirectory(workspace, hash)) / "catalog.sqlite";
    if (!fs::is_regular_file(catalog))
        return "not started";
    try {
        const core::Catalog shard(catalog.string(), core::OpenMode::ReadOnly);
        std::string state = "not started";
        for (const core::RunRecord& run : shard.listRuns())
            if (core::runContentHash(run.configJson) == hash)
                state = core::runStatusName(run.status);
        return state;
    } catch (const core::Error& e) {
        return std::string("unreadable (") + e.what() + ")";
    }
}

} // namespace

std::string slurmSweepStatus(const std::string& workspace, bool asJson)
{
    json sweeps = json::array();
    const fs::path root = fs::path(workspace) / "sweeps";
    std::set<std::string> mergedHashes;
    if (fs::is_regular_file(fs::path(workspace) / "catalog.sqlite")) {
        const core::Catalog main((fs::path(workspace) / "catalog.sqlite").string(), core::OpenMode::ReadOnly);
        for (const core::RunRecord& run : main.listRuns())
            if (run.status == core::RunStatus::Finished)
                mergedHashes.insert(core::runContentHash(run.configJson));
    }
    if (fs::is_directory(root))
        for (const auto& entry : fs::directory_iterator(root)) {
            const fs::path record = entry.path() / "slurm.json";
            const fs::path plan = entry.path() / "plan.json";
            if (!fs::is_regular_file(record) || !fs::is_regular_file(plan))
                continue;
            const json submitted = json::parse(core::readTextFile(record.string()));
            const std::string arrayJob = submitted.at("array_job").get<std::string>();
            const std::string mergeJob = submitted.at("merge_job").get<std::string>();
            const auto states = queueStates({arrayJob, mergeJob});
            json runs = json::array();
            for (const json& run : json::parse(core::readTextFile(plan.string()))) {
                const std::string hash = run.at("hash").get<std::string>();
                const std::string task = arrayJob + "_" + std::to_string(run.at("index").get<long long>());
                const auto queued = states.find(task);
                runs.push_back({{"index", run.at("index")},
                                {"name", run.at("name")},
                                {"hash", hash},
                                {"queue", queued == states.end() ? "" : queued->second},
                                {"shard", shardState(workspace, hash)},
                                {"merged", mergedHashes.count(hash) > 0}});
            }
            const auto mergeState = states.find(mergeJob);
            sweeps.push_back({{"sweep", submitted.at("sweep")},
                              {"array_job", arrayJob},
                              {"merge_job", mergeJob},
                              {"merge_queue", mergeState == states.end() ? "" : mergeState->second},
                              {"runs", runs}});
        }
    if (asJson)
        return sweeps.dump(2) + "\n";
    std::string text;
    if (sweeps.empty())
        return "no Slurm sweeps submitted from " + workspace + "\n";
    for (const json& sweep : sweeps) {
        const std::string mergeQueue = sweep["merge_queue"].get<std::string>();
        text += "sweep " + sweep["sweep"].get<std::string>() + ": array job " + sweep["array_job"].get<std::string>() +
                ", merge job " + sweep["merge_job"].get<std::string>() + " (" +
                (mergeQueue.empty() ? "not in the queue" : mergeQueue) + ")\n";
        char line[512];
        std::snprintf(line, sizeof line, "  %5s  %-16s  %-24s  %-12s  %-6s  %s\n", "index", "hash", "queue", "shard",
                      "merged", "name");
        text += line;
        for (const json& run : sweep["runs"]) {
            const std::string queue = run["queue"].get<std::string>();
            std::snprintf(line, sizeof line, "  %5lld  %-16s  %-24s  %-12s  %-6s  %s\n", run["index"].get<long long>(),
                          run["hash"].get<std::string>().c_str(), queue.empty() ? "-" : queue.c_str(),
                          run["shard"].get<std::string>().c_str(), run["merged"].get<bool>() ? "yes" : "no",
                          run["name"].get<std::string>().c_str());
            text += line;
        }
    }
    return text;
}

bool requeueThisSlurmTask()
{
    const char* job = std::getenv("SLURM_JOB_ID");
    if (job == nullptr)
        return false;
    // An array task is "ARRAY_TASK": its SLURM_JOB_ID names the whole array to scontrol, and
    // requeueing that would restart every task, finished ones too.
    const char* array = std::getenv("SLURM_ARRAY_JOB_ID");
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    const std::string id = array != nullptr && task != nullptr ? std::string(array) + "_" + task : std::string(job);
    // Only a task Slurm still runs: after `scancel` (state CANCELLED) the user wants it gone,
    // and after an external `scontrol requeue` it is queued again already.
    const CommandOutput state = runCommand("squeue -h -o %T -j " + shellQuoted(id));
    if (state.status != 0 || state.text != "RUNNING") {
        std::fprintf(stderr, "quantscope: Slurm job %s is %s, not requeueing it\n", id.c_str(),
                     state.text.empty() ? "unknown to squeue" : state.text.c_str());
        return false;
    }
    // The requeue sends this process SIGTERM again: say so first, and outlive that signal long
    // enough to exit by itself (Slurm's SIGKILL follows after KillWait anyway).
    std::signal(SIGTERM, SIG_IGN);
    std::fprintf(stderr, "quantscope: requeued Slurm job %s; its next start resumes from the checkpoint\n", id.c_str());
    std::fflush(stderr);
    const CommandOutput output = runCommand("scontrol requeue " + shellQuoted(id));
    if (output.status != 0) {
        std::fprintf(stderr, "quantscope: scontrol requeue %s failed: %s\n", id.c_str(), output.text.c_str());
        return false;
    }
    return true;
}

} // namespace app
