// bench_startup: how long `quantscope` takes to start and answer (issue 14), median wall time
// of repeated runs of
//   - `quantscope --version` and `quantscope info` (the launcher alone: no LibTorch),
//   - `quantscope eval --max-windows 1 --seq-len 16` on the bundled model (the engine module:
//     LibTorch loaded, one tiny forward),
// against the baseline measured in the same run: this benchmark re-executed with --noop, a
// process that loads LibTorch (it links it) and exits at once. Prints one JSON object.
// Target: info <= 0.3 s wall.

#include "jobs/resources.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

extern char** environ;

namespace {

// Runs argv with stdout and stderr on /dev/null; returns the wall time in seconds.
double runOnce(const std::vector<std::string>& args)
{
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
        std::cerr << "bench_startup: cannot run " << args[0] << ": " << std::strerror(errno) << "\n";
        std::exit(1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    posix_spawn_file_actions_destroy(&actions);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::cerr << "bench_startup: " << args[0] << " " << (args.size() > 1 ? args[1] : "") << " failed\n";
        std::exit(1);
    }
    return seconds;
}

double medianOf(int runs, const std::vector<std::string>& args)
{
    runOnce(args); // warm the page cache
    std::vector<double> times;
    for (int i = 0; i < runs; ++i)
        times.push_back(runOnce(args));
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    if (argc > 1 && std::string(argv[1]) == "--noop")
        return 0;
    const int runs = 7;
    const std::string binary = QS_BINARY;
    const std::string self = "/proc/self/exe";
    char selfPath[4096] = {0};
    if (::readlink(self.c_str(), selfPath, sizeof selfPath - 1) < 0) {
        std::cerr << "bench_startup: cannot find itself\n";
        return 1;
    }
    const std::string text = core::resourceDirectory() + "/data/brown_test.txt";
    const double torchLoad = medianOf(runs, {selfPath, "--noop"});
    const double version = medianOf(runs, {binary, "--version"});
    const double info = medianOf(runs, {binary, "info"});
    const double eval = medianOf(runs, {binary, "eval", "--text", text, "--max-windows", "1", "--seq-len", "16", "-q"});
    const nlohmann::json report = {{"benchmark", "bench_startup"},
                                   {"runs", runs},
                                   {"baseline_load_libtorch_seconds", torchLoad},
                                   {"version_seconds", version},
                                   {"info_seconds", info},
                                   {"eval_one_window_seconds", eval},
                                   {"info_over_libtorch_load", info / torchLoad},
                                   {"eval_over_libtorch_load", eval / torchLoad},
                                   {"target_info_seconds", 0.3}};
    std::cout << report.dump(2) << std::endl;
    return 0;
}
