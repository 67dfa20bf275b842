#pragma once
// A workspace catalog with many runs (no artifacts), for the runs panel's test and benchmark.

#include <string>

namespace testsupport {

/// Adds `runs` runs to the workspace at `directory`: run i is rtn / gptq / omniquant (mse+sw)
/// cycling, w2..w4 g128, finished (every 50th failed with "out of memory"), Brown perplexity
/// 10 + (i·37 mod 100)/10.
void fillWorkspaceWithRuns(const std::string& directory, int runs);

} // namespace testsupport
