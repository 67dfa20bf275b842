#pragma once
// A workspace directory: catalog.sqlite plus runs/<id>/ (config.json, artifacts.h5)
// (ARCHITECTURE.md, "Storage"). Torch-free.

#include "store/catalog.h"

#include <cstdint>
#include <string>
#include <vector>

namespace core {

/// $QUANTSCOPE_WORKSPACE if set, else $XDG_DATA_HOME/quantscope/workspace,
/// else ~/.local/share/quantscope/workspace.
std::string defaultWorkspaceDirectory();

/// One process may write (run jobs) while others read. Not thread-safe: one
/// Workspace per thread (each has its own SQLite connection).
class Workspace {
public:
    /// Opens (ReadWrite: creating the directory and catalog if needed) the workspace at `directory`.
    /// ReadWrite also marks interrupted runs (markInterruptedRuns). Throws core::Error naming
    /// the directory or catalog at fault.
    explicit Workspace(std::string directory, OpenMode mode = OpenMode::ReadWrite);

    const std::string& directory() const { return m_directory; }
    Catalog& catalog() { return m_catalog; }
    const Catalog& catalog() const { return m_catalog; }

    std::string runDirectory(std::int64_t runId) const;
    std::string artifactPath(std::int64_t runId) const; ///< runs/<id>/artifacts.h5
    std::string configPath(std::int64_t runId) const;   ///< runs/<id>/config.json

    /// Removes the run from the catalog, then its directory.
    void deleteRun(std::int64_t runId);

    /// Runs in status `running` whose job lock no process holds (store/run_lock.h) — their
    /// process was killed or crashed — become `failed` with a message saying so; what they
    /// stored stays. Returns how many.
    int markInterruptedRuns();

    /// The runs markInterruptedRuns would mark: `running`, and no process holds their lock.
    std::vector<std::int64_t> interruptedRunIds() const;

private:
    std::string m_directory;
    Catalog m_catalog;
};

/// A workspace opened for reading, and what the reader should be told about it.
struct ReadableWorkspace {
    Workspace workspace;
    std::string warning; ///< empty when it opened read-write
};

/// For commands that only read (runs list/show, compare, diag, export, dump): opens read-write,
/// so that interrupted runs are marked, and where the workspace cannot be written (a read-only
/// directory or file system, a full disk, a size limit) reads it read-only instead; the warning
/// then names the reason and the runs that could not be marked interrupted. Throws when it
/// cannot be read either (that error names the catalog).
ReadableWorkspace openWorkspaceForReading(const std::string& directory);

} // namespace core
