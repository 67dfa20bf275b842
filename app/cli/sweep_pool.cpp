#include "cli/sweep_pool.h"

#include "jobs/sweep_task.h"
#include "store/workspace.h"
#include "util/error.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The child's environment: ours with the thread counts set (replacing any inherited ones).
std::vector<std::string> childEnvironment(int threads)
{
    const std::vector<std::string> names = {"QUANTSCOPE_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"};
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string text = *entry;
        bool replaced = false;
        for (const std::string& name : names)
            replaced = replaced || text.starts_with(name + "=");
        if (!replaced)
            env.push_back(text);
    }
    for (const std::string& name : names)
        env.push_back(name + "=" + std::to_string(threads));
    return env;
}

// Starts `argv` with stdout and stderr to `logPath`; returns its pid.
pid_t spawnLogged(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& logPath)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args, envp;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const std::string& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw core::Error("cannot start " + argv[0] + ": " + std::strerror(rc));
    return pid;
}

std::string duration(double seconds)
{
    const long s = static_cast<long>(seconds + 0.5);
    char text[32];
    if (s >= 3600)
        std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else
        std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
    return text;
}

} // namespace

std::string quantscopeExecutable()
{
    return fs::read_symlink("/proc/self/exe").string();
}

SweepPoolResult runSweepPool(const core::SweepPlan& plan, const SweepPoolOptions& options,
                             const core::CancelToken& cancel)
{
    SweepPoolResult result;
    std::vector<const core::SweepRun*> pending;
    {
        core::Workspace workspace(options.workspace);
        const auto finished = core::finishedRunsByHash(workspace.catalog());
        for (const core::SweepRun& run : plan.runs) {
            if (finished.count(run.contentHash))
                ++result.skipped;
            else
                pending.push_back(&run);
        }
    }
    const int jobs = std::max(1, options.jobs);
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = options.threads > 0 ? options.threads : std::max(1, cores / jobs);
    const std::string logs = core::sweepDirectory(options.workspace, plan.name) + "/logs";
    fs::create_directories(logs);
    const std::vector<std::string> env = childEnvironment(threads);
    const std::string executable = quantscopeExecutable();
    // The children read the saved plan, not the manifest: editing it meanwhile changes nothing.
    const std::string savedPlan = core::writeSweepPlan(plan, options.workspace);

    const auto start = Clock::now();
    std::map<pid_t, const core::SweepRun*> running;
    std::size_t next = 0;
    bool interrupted = false;
    const auto report = [&] {
        if (options.quiet)
            return;
        const int done = result.finished + result.failed;
        const int total = static_cast<int>(pending.size());
        std::string eta;
        if (result.finished > 0 && done < total) {
            const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
            const double perRun = elapsed / static_cast<double>(done);
            // Elapsed time per finished run already reflects the runs going on side by side.
            eta = ", ETA " + duration(perRun * static_cast<double>(total - done));
        }
        std::fprintf(stderr, "sweep %s: %d/%d done (%d failed), %zu running, %d skipped%s\n", plan.name.c_str(), done,
                     total, result.failed, running.size(), result.skipped, eta.c_str());
    };
    if (!options.quiet)
        std::fprintf(stderr, "sweep %s: %zu of %zu runs to do, %d at a time with %d threads each; logs in %s\n",
                     plan.name.c_str(), pending.size(), plan.runs.size(), jobs, threads, logs.c_str());
    while (next < pending.size() || !running.empty()) {
        if (cancel.isCancelled() && !interrupted) {
            interrupted = true;
            for (const auto& [pid, run] : running)
                ::kill(pid, SIGINT); // each child checkpoints its run and exits
        }
        while (!interrupted && next < pending.size() && static_cast<int>(running.size()) < jobs) {
            const core::SweepRun& run = *pending[next++];
            const std::vector<std::string> argv = {executable,    "sweep",          "task",
                                                   savedPlan,     "--index",        std::to_string(run.index),
                                                   "--workspace", options.workspace};
            try {
                running[spawnLogged(argv, env, logs + "/" + run.contentHash + ".log")] = &run;
            } catch (const core::Error&) {
                // Leave no child behind: stop the running ones (they checkpoint) and reap them.
                for (const auto& [pid, child] : running)
                    ::kill(pid, SIGINT);
                for (const auto& [pid, child] : running)
                    ::waitpid(pid, nullptr, 0);
                throw;
            }
            report();
        }
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0 && running.count(pid)) {
            const core::SweepRun& run = *running[pid];
            running.erase(pid);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                ++result.finished;
            } else if (!interrupted) {
                ++result.failed;
                if (!options.quiet)
                    std::fprintf(stderr, "sweep %s: run %lld (%s) failed; see %s/%s.log\n", plan.name.c_str(),
                                 static_cast<long long>(run.index), run.name.c_str(), logs.c_str(),
                                 run.contentHash.c_str());
            }
            report();
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    result.cancelled = interrupted;
    return result;
}

} // namespace app
