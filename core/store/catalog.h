#pragma once
// The workspace run catalog (catalog.sqlite, ARCHITECTURE.md "Storage"): every run with its
// config, status and timings, its per-dataset and per-layer metrics, its tags, and a cache
// of full-precision perplexities. Torch-free and Qt-free.
//
// Threads and processes: one Catalog object belongs to one thread at a time (its SQLite
// connection is opened without a mutex); move it, never share it. Several Catalog objects,
// in one process or many, may open the same file: the file is in WAL mode, so readers never
// wait for the writer and see committed data only; writers take turns, each waiting up to
// the busy timeout (default 5 s) before throwing. Keep the file on a local disk: WAL does
// not work over network file systems.
//
// Every function throws core::Error with a one-line message naming the catalog file and
// the thing at fault (the run id, the version, the SQLite message).

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace core {

enum class RunStatus { Queued, Running, Finished, Failed, Cancelled };

/// "queued", "running", "finished", "failed" or "cancelled", as stored in the catalog.
std::string runStatusName(RunStatus status);
/// The inverse of runStatusName. Throws core::Error naming `name` if it is none of them.
RunStatus parseRunStatus(const std::string& name);

/// What a run is: a calibration, a test-time adaptation of a finished run (LRQuant; its
/// numbers are never PTQ numbers), or a calibration of a preprocessed model (PTQ1.61's
/// second round). The last two have a parent run.
enum class RunKind { Ptq, TestTimeAdapted, Preprocessed };
/// "ptq", "tta" or "preprocessed", as stored in the catalog.
std::string runKindName(RunKind kind);
/// The inverse of runKindName. Throws core::Error naming `name` if it is none of them.
RunKind parseRunKind(const std::string& name);

/// What a caller knows about a run before it starts.
struct NewRun {
    std::string name;
    std::string method;     ///< "rtn", "gptq", ...
    std::string configJson; ///< the full run config, as written to runs/<id>/config.json
    std::string modelPath;
    std::string modelFingerprint; ///< identifies the model's weights independently of its path
    std::int64_t parentRunId = 0; ///< the run this one derives from (0: none); must exist
    RunKind kind = RunKind::Ptq;
};

/// One row of the runs table. Timestamps are ISO 8601 UTC ("2026-11-27T07:35:27Z"), written
/// by the catalog; an empty string means "not set".
struct RunRecord {
    std::int64_t id = 0;
    std::string name;
    std::string method;
    RunStatus status = RunStatus::Queued;
    std::string configJson;
    std::string modelPath;
    std::string modelFingerprint;
    std::string createdAt;
    std::string startedAt;
    std::string finishedAt;
    double seconds = std::numeric_limits<double>::quiet_NaN(); ///< wall time of the job; NaN until set
    std::string errorMessage;
    std::vector<std::string> tags; ///< sorted
    std::int64_t parentRunId = 0;  ///< 0: none (or the parent was deleted)
    RunKind kind = RunKind::Ptq;
};

/// A whole-model metric on one evaluation data set (perplexity on "wikitext2", ...).
/// Values that are NaN or infinite are stored as NULL and read back as NaN.
struct DatasetMetric {
    std::string dataset;
    std::string metric;
    double value = 0;
};

/// A metric of one quantized layer ("model.layers.3.mlp.down_proj", block 3, "rel_error").
/// Values that are NaN or infinite are stored as NULL and read back as NaN.
struct LayerMetric {
    std::string layer;
    std::int64_t block = 0;
    std::string metric;
    double value = 0;
};

/// One metric of a zero-shot task (issue 19): "acc", "acc_norm", "acc_bytes" or "perplexity",
/// with its standard error (NaN: none) over `documents` documents. `reported`: the harness
/// reports this metric for the task (only those count in averages).
struct TaskMetricRecord {
    std::string task;
    std::string metric;
    double value = 0;
    double standardError = 0;
    std::int64_t documents = 0;
    bool reported = false;
};

/// Everything a full-precision perplexity depends on.
struct FpBaselineKey {
    std::string modelFingerprint;
    std::string datasetFingerprint;
    std::int64_t seqLen = 0;
    std::int64_t maxWindows = 0;
};

struct FpBaseline {
    double perplexity = std::numeric_limits<double>::quiet_NaN(); ///< NaN/inf are stored as NULL, read as NaN
    std::int64_t tokens = 0;                                      ///< tokens scored
};

enum class OpenMode {
    ReadWrite, ///< creates and upgrades the catalog as needed
    ReadOnly,  ///< for viewers: never writes, never migrates
};

class Catalog {
public:
    static constexpr int kSchemaVersion = 5;
    static constexpr int kDefaultBusyTimeoutMs = 5000;

    /// Opens the catalog at `path`. ReadWrite creates the file if it is missing (its directory
    /// must exist), switches it to WAL and upgrades an older schema, each migration in one
    /// transaction. ReadOnly requires an existing catalog at exactly kSchemaVersion.
    /// Throws core::Error if the directory or (read-only) the file is missing, if the file is
    /// not a Quantscope catalog, if it was written by a newer Quantscope (the file is left
    /// untouched), if it is older and `mode` is ReadOnly, if WAL cannot be enabled, or if
    /// an upgrade waits longer than the busy timeout for another writer.
    explicit Catalog(std::string path, OpenMode mode = OpenMode::ReadWrite);
    ~Catalog();
    Catalog(Catalog&& other) noexcept;
    /// A moved-from Catalog may only be destroyed or assigned to.
    Catalog& operator=(Catalog&& other) noexcept;
    Catalog(const Catalog&) = delete;
    Catalog& operator=(const Catalog&) = delete;

    const std::string& path() const { return m_path; }
    OpenMode mode() const { return m_mode; }
    /// The schema version found after opening and migrating: kSchemaVersion.
    int schemaVersion() const { return m_schemaVersion; }

    /// How long a write waits for another connection's write transaction before throwing
    /// "locked" (milliseconds; 0 fails at once). Default kDefaultBusyTimeoutMs.
    void setBusyTimeoutMs(int milliseconds);

    // Writes. Each one is a single transaction (BEGIN IMMEDIATE): all or nothing. Each throws
    // core::Error if the catalog was opened ReadOnly, if another connection holds the write
    // lock for longer than the busy timeout ("... is locked by another process ..."), and,
    // where it takes a run id, if no such run exists ("run 7 not found in <path>").

    /// Adds a run in status queued, created now. Returns its id: one more than the largest
    /// id in the catalog, so the id of a deleted newest run is given out again.
    std::int64_t createRun(const NewRun& run);
    /// Sets the status and replaces the error message (empty = none). Queued clears the
    /// start and finish times, Running sets started_at to now and clears finished_at,
    /// Finished/Failed/Cancelled set finished_at to now. Any transition is accepted.
    void setRunStatus(std::int64_t id, RunStatus status, const std::string& errorMessage = {});
    /// Wall time of the run in seconds; NaN/inf clear it.
    void setRunSeconds(std::int64_t id, double seconds);
    void renameRun(std::int64_t id, const std::string& name);
    /// Replaces the run's tags; duplicates collapse. Throws core::Error for an empty tag.
    void setRunTags(std::int64_t id, const std::vector<std::string>& tags);
    /// Deletes the run with its metrics and tags.
    void deleteRun(std::int64_t id);
    /// Inserts the metrics; a (dataset, metric) pair already stored for the run is replaced.
    void addDatasetMetrics(std::int64_t id, const std::vector<DatasetMetric>& metrics);
    /// Inserts zero-shot task metrics; a (task, metric) pair already stored for the run is replaced.
    void addTaskMetrics(std::int64_t id, const std::vector<TaskMetricRecord>& metrics);
    /// Inserts metrics of the whole run ("effective_bits"); one already stored is replaced.
    void addRunMetrics(std::int64_t id, const std::map<std::string, double>& metrics);
    /// Inserts the metrics; a (layer, metric) pair already stored for the run is replaced
    /// (and moves to the end of the insertion order, see layerMetrics).
    void addLayerMetrics(std::int64_t id, const std::vector<LayerMetric>& metrics);
    /// Stores (or replaces) the full-precision perplexity for `key`, created now.
    void storeFpBaseline(const FpBaselineKey& key, const FpBaseline& baseline);
    /// Marks every run left queued or running as failed ("interrupted"), finished now, and
    /// returns how many. Call it explicitly, once, when the process that runs jobs in this
    /// workspace starts, to clean up after one that died. Never call it while another
    /// process may be running jobs in the same workspace: their runs would be failed too.
    int failAbandonedRuns();
    /// Copies run `sourceRunId` of the catalog at `sourcePath` (a sweep's shard, same schema
    /// version) with its metrics, tags and FP baselines into this catalog as a new run, in one
    /// transaction, and returns its id. `placeFiles(newId)` runs inside the transaction, before
    /// it commits: it puts the run's files in place, and if it throws nothing is imported. The
    /// copy has no parent (ids are the shard's own). Throws core::Error naming the shard when it
    /// is not a catalog of this version or has no such run.
    std::int64_t importRun(const std::string& sourcePath, std::int64_t sourceRunId,
                           const std::function<void(std::int64_t newId)>& placeFiles);

    // Reads. Each one reads one consistent snapshot (committed data only) and never waits
    // for a writer.

    /// All runs ordered by id, each with its tags (two queries, whatever the number of runs).
    std::vector<RunRecord> listRuns() const;
    /// The run, or nullopt if there is none with this id.
    std::optional<RunRecord> findRun(std::int64_t id) const;
    /// The run; throws core::Error "run 7 not found in <path>" if there is none.
    RunRecord run(std::int64_t id) const;
    /// The run's dataset metrics ordered by dataset, then metric. Throws if the run is unknown.
    std::vector<DatasetMetric> datasetMetrics(std::int64_t id) const;
    /// `metric` of every run and dataset in one query: run id → dataset → value (lists of many
    /// runs use it instead of one datasetMetrics() call per run).
    std::map<std::int64_t, std::map<std::string, double>> datasetMetricOfAllRuns(const std::string& metric) const;
    /// The run's task metrics ordered by task, then metric. Throws if the run is unknown.
    std::vector<TaskMetricRecord> taskMetrics(std::int64_t id) const;
    /// Every run's task metrics in one query: run id → its metrics (ordered as taskMetrics).
    std::map<std::int64_t, std::vector<TaskMetricRecord>> taskMetricsOfAllRuns() const;
    /// The run's run-level metrics by name. Throws if the run is unknown.
    std::map<std::string, double> runMetrics(std::int64_t id) const;
    /// `metric` of every run that has it: run id → value (one query, for lists).
    std::map<std::int64_t, double> runMetricOfAllRuns(const std::string& metric) const;
    /// The run's layer metrics ordered by block, then insertion order. Throws if the run is unknown.
    std::vector<LayerMetric> layerMetrics(std::int64_t id) const;
    /// The cached full-precision perplexity for `key`, or nullopt.
    std::optional<FpBaseline> findFpBaseline(const FpBaselineKey& key) const;

private:
    struct ConnectionCloser {
        void operator()(sqlite3* db) const noexcept;
    };

    void open();
    void configureConnection();
    /// Read-only, where reading fails for want of writing the WAL index: reopens immutable.
    void reopenImmutableIfUnreadable();
    void enableWal();
    /// Applies the migrations after `foundVersion`, each in its own write transaction.
    void migrate(int foundVersion);

    std::string m_path;
    OpenMode m_mode = OpenMode::ReadWrite;
    int m_schemaVersion = 0;
    std::unique_ptr<sqlite3, ConnectionCloser> m_db;
};

} // namespace core
