#include "store/workspace.h"

#include "store/run_lock.h"
#include "util/error.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace core {
namespace {

namespace fs = std::filesystem;

std::string prepareDirectory(const std::string& directory, OpenMode mode)
{
    if (directory.empty())
        throw Error("workspace: empty directory name");
    std::error_code error;
    if (mode == OpenMode::ReadWrite)
        fs::create_directories(directory, error);
    if (error || !fs::is_directory(directory))
        throw Error("workspace " + directory + ": cannot " +
                    (mode == OpenMode::ReadWrite ? "create directory" : "open (no such directory)") +
                    (error ? " (" + error.message() + ")" : std::string()));
    return directory;
}

} // namespace

std::string defaultWorkspaceDirectory()
{
    if (const char* explicitDir = std::getenv("QUANTSCOPE_WORKSPACE"); explicitDir && *explicitDir)
        return explicitDir;
    if (const char* dataHome = std::getenv("XDG_DATA_HOME"); dataHome && *dataHome)
        return (fs::path(dataHome) / "quantscope" / "workspace").string();
    const char* home = std::getenv("HOME");
    return (fs::path(home && *home ? home : ".") / ".local" / "share" / "quantscope" / "workspace").string();
}

Workspace::Workspace(std::string directory, OpenMode mode)
    : m_directory(prepareDirectory(directory, mode)),
      m_catalog((fs::path(m_directory) / "catalog.sqlite").string(), mode)
{
    if (mode == OpenMode::ReadWrite)
        markInterruptedRuns();
}

std::vector<std::int64_t> Workspace::interruptedRunIds() const
{
    std::vector<std::int64_t> ids;
    for (const RunRecord& run : m_catalog.listRuns())
        if (run.status == RunStatus::Running && !runLockHeld(runDirectory(run.id)))
            ids.push_back(run.id);
    return ids;
}

int Workspace::markInterruptedRuns()
{
    int marked = 0;
    for (const std::int64_t id : interruptedRunIds()) {
        m_catalog.setRunStatus(id, RunStatus::Failed,
                               "interrupted: the process running it ended before it finished (killed or "
                               "crashed); the blocks it finished are kept");
        ++marked;
    }
    return marked;
}

ReadableWorkspace openWorkspaceForReading(const std::string& directory)
{
    std::string writeError;
    try {
        return {Workspace(directory, OpenMode::ReadWrite), {}};
    } catch (const Error& e) {
        writeError = e.what();
    }
    // Read-only cannot succeed where read-write failed for a reason other than writing (not a
    // catalog, a newer schema): it then throws that reason itself.
    Workspace workspace(directory, OpenMode::ReadOnly);
    std::string warning = "workspace " + directory + " opened read-only, it cannot be written (" + writeError + ")";
    if (const auto stale = workspace.interruptedRunIds(); !stale.empty()) {
        warning += "; run";
        warning += stale.size() == 1 ? " " : "s ";
        for (std::size_t i = 0; i < stale.size(); ++i) {
            if (i > 0)
                warning += ", ";
            warning += std::to_string(stale[i]);
        }
        warning += stale.size() == 1 ? " was" : " were";
        warning += " interrupted but could not be marked so (still shown as running)";
    }
    return {std::move(workspace), std::move(warning)};
}

std::string Workspace::runDirectory(std::int64_t runId) const
{
    return (fs::path(m_directory) / "runs" / std::to_string(runId)).string();
}

std::string Workspace::artifactPath(std::int64_t runId) const
{
    return (fs::path(runDirectory(runId)) / "artifacts.h5").string();
}

std::string Workspace::configPath(std::int64_t runId) const
{
    return (fs::path(runDirectory(runId)) / "config.json").string();
}

void Workspace::deleteRun(std::int64_t runId)
{
    if (runLockHeld(runDirectory(runId)))
        throw Error("run " + std::to_string(runId) + " is running (a process holds its lock on " + runDirectory(runId) +
                    "); cancel it first, then delete it");
    m_catalog.deleteRun(runId);
    std::error_code error;
    fs::remove_all(runDirectory(runId), error);
    if (error)
        throw Error("run " + std::to_string(runId) + " removed from the catalog, but its directory " +
                    runDirectory(runId) + " could not be deleted (" + error.message() + ")");
}

} // namespace core
