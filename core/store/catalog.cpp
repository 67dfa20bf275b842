#include "store/catalog.h"

#include "util/error.h"

#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <limits>
#include <string_view>

namespace core {
namespace {

// Migration i (counting from 1) takes a catalog from user_version i-1 to i. Append only: a
// released migration is never edited, because catalogs in the field were built by it
// (tests/core/test_catalog.cpp keeps a golden copy of version 1 to catch that).
constexpr const char* kMigrations[] = {
    // 1: runs, their metrics, and the cache of full-precision perplexities.
    R"sql(
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    method TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
    config_json TEXT NOT NULL,
    model_path TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    seconds REAL,
    error_message TEXT
) STRICT;
CREATE TABLE dataset_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    dataset TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, dataset, metric)
) STRICT;
CREATE TABLE layer_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    layer TEXT NOT NULL,
    block INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, layer, metric)
) STRICT;
CREATE TABLE fp_baselines (
    model_fingerprint TEXT NOT NULL,
    dataset_fingerprint TEXT NOT NULL,
    seq_len INTEGER NOT NULL,
    max_windows INTEGER NOT NULL,
    perplexity REAL,
    tokens INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model_fingerprint, dataset_fingerprint, seq_len, max_windows)
) STRICT;
)sql",
    // 2: tags for the GUI's runs panel; comparing one metric across runs.
    R"sql(
CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
) STRICT;
CREATE INDEX layer_metrics_by_metric ON layer_metrics(metric);
)sql",
    // 3: metrics of the whole run that belong to no dataset or layer (effective bits per weight).
    R"sql(
CREATE TABLE run_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, metric)
) STRICT;
)sql",
    // 4: runs derived from another run (issue 18): LRQuant's test-time adaptation and PTQ1.61's
    // second round after preprocessing record their parent and what they are.
    R"sql(
ALTER TABLE runs ADD COLUMN parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL;
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'ptq' CHECK (kind IN ('ptq', 'tta', 'preprocessed'));
)sql",
    // 5: zero-shot task accuracies (issue 19): each metric of each task with its standard error,
    // the documents scored and whether the harness reports the metric for that task.
    R"sql(
CREATE TABLE task_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    stderr REAL,
    documents INTEGER NOT NULL,
    reported INTEGER NOT NULL CHECK (reported IN (0, 1)),
    PRIMARY KEY (run_id, task, metric)
) STRICT;
)sql",
};
static_assert(std::size(kMigrations) == Catalog::kSchemaVersion, "one migration per schema version");

// Column order read by readRun().
constexpr std::string_view kSelectRuns =
    "SELECT id, name, method, status, config_json, model_path, model_fingerprint, "
    "created_at, started_at, finished_at, seconds, error_message, parent_run_id, kind FROM runs";

// The connection, the file and what the caller was doing: everything an error message needs.
struct Operation {
    sqlite3* db;
    const std::string& path;
    std::string what; ///< completes "cannot ...", e.g. "add layer metrics to run 7"

    /// Throws for the SQLite result code `rc` (extended codes are on: the low byte is the primary).
    [[noreturn]] void fail(int rc) const
    {
        const std::string message = sqlite3_errmsg(db);
        switch (rc & 0xff) {
        case SQLITE_BUSY: // the busy timeout ran out: a different fix than any other failure
            throw Error(path + " is locked by another process (cannot " + what + ": " + message + ")");
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            throw Error(path + ": not a Quantscope catalog (" + message + ")");
        default:
            throw Error(path + ": cannot " + what + " (" + message + ")");
        }
    }

    [[noreturn]] void fail(const std::string& problem) const
    {
        throw Error(path + ": cannot " + what + " (" + problem + ")");
    }
};

Error runNotFound(const std::string& path, std::int64_t id)
{
    return Error("run " + std::to_string(id) + " not found in " + path);
}

/// Runs constant SQL (pragmas, transaction control, migrations) that returns no rows.
void exec(const Operation& op, const char* sql)
{
    const int rc = sqlite3_exec(op.db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        op.fail(rc);
}

struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};

/// A prepared statement: parameters are bound (never spliced into the SQL), columns are read
/// with NULL mapped to "" or NaN.
class Statement {
public:
    Statement(const Operation& op, std::string_view sql) : m_op(op)
    {
        sqlite3_stmt* statement = nullptr;
        const int rc = sqlite3_prepare_v2(op.db, sql.data(), static_cast<int>(sql.size()), &statement, nullptr);
        m_statement.reset(statement);
        if (rc != SQLITE_OK)
            op.fail(rc);
    }

    Statement& bindInt(int index, std::int64_t value)
    {
        check(sqlite3_bind_int64(get(), index, value));
        return *this;
    }

    /// NaN and infinities become NULL: SQLite would store NaN as NULL anyway, and reading
    /// back an infinity as a number would hide that the metric diverged.
    Statement& bindReal(int index, double value)
    {
        check(std::isfinite(value) ? sqlite3_bind_double(get(), index, value) : sqlite3_bind_null(get(), index));
        return *this;
    }

    Statement& bindText(int index, const std::string& value)
    {
        check(sqlite3_bind_text64(get(), index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
        return *this;
    }

    /// For the nullable text columns: "" means "not set" and is stored as NULL.
    Statement& bindOptionalText(int index, const std::string& value)
    {
        if (value.empty()) {
            check(sqlite3_bind_null(get(), index));
            return *this;
        }
        return bindText(index, value);
    }

    /// True when a row is ready to read, false when the statement is done.
    bool step()
    {
        const int rc = sqlite3_step(get());
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        m_op.fail(rc);
    }

    /// Runs a statement that returns no rows (INSERT, UPDATE, DELETE).
    void execute()
    {
        while (step()) {
        }
    }

    /// Makes the statement ready to be bound and run again (one statement per batch insert).
    void reset() { sqlite3_reset(get()); } // its result repeats the last step's, already handled

    std::int64_t int64(int column) const { return sqlite3_column_int64(get(), column); }

    double real(int column) const
    {
        if (sqlite3_column_type(get(), column) == SQLITE_NULL)
            return std::numeric_limits<double>::quiet_NaN();
        return sqlite3_column_double(get(), column);
    }

    std::string text(int column) const
    {
        // column_text first: column_bytes then reports the size of that UTF-8 text.
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(get(), column));
        if (!data)
            return {};
        return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(get(), column)));
    }

private:
    sqlite3_stmt* get() const { return m_statement.get(); }

    void check(int rc) const
    {
        if (rc != SQLITE_OK)
            m_op.fail(rc);
    }

    const Operation& m_op;
    std::unique_ptr<sqlite3_stmt, StatementFinalizer> m_statement;
};

/// BEGIN ... COMMIT. The destructor rolls back whatever was not committed, so an exception
/// leaves the catalog as it was; a read snapshot has nothing to commit and just ends there.
class Transaction {
public:
    enum class Kind { Read, Write };

    Transaction(const Operation& op, Kind kind) : m_op(op)
    {
        // IMMEDIATE takes the write lock up front, waiting for it under the busy timeout. A
        // deferred transaction would upgrade at its first write and, in WAL mode, fail at
        // once with SQLITE_BUSY_SNAPSHOT if another writer committed in between.
        exec(op, kind == Kind::Write ? "BEGIN IMMEDIATE" : "BEGIN");
    }

    ~Transaction()
    {
        // Some errors (disk full, I/O) already rolled back; ROLLBACK would then fail.
        if (!sqlite3_get_autocommit(m_op.db))
            sqlite3_exec(m_op.db, "ROLLBACK", nullptr, nullptr, nullptr);
    }

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit() { exec(m_op, "COMMIT"); }

private:
    const Operation& m_op;
};

/// An SQLite URI for a file path: the characters URIs give a meaning are escaped.
std::string fileUri(const std::string& path)
{
    std::string uri = "file:";
    for (const char c : path)
        uri += c == '%'   ? std::string("%25")
               : c == '?' ? std::string("%3f")
               : c == '#' ? std::string("%23")
                          : std::string(1, c);
    return uri;
}

/// Every write: refuses on a read-only catalog with a clear message (rather than SQLite's
/// "attempt to write a readonly database"), then takes the write lock.
Transaction beginWrite(const Operation& op, OpenMode mode)
{
    if (mode == OpenMode::ReadOnly)
        throw Error(op.path + ": opened read-only, cannot " + op.what);
    return Transaction(op, Transaction::Kind::Write);
}

/// Inside a transaction: throws unless run `id` exists (checked explicitly so that the
/// message names the run rather than a foreign key).
void requireRun(const Operation& op, std::int64_t id)
{
    Statement query(op, "SELECT 1 FROM runs WHERE id = ?1");
    if (!query.bindInt(1, id).step())
        throw runNotFound(op.path, id);
}

/// For UPDATE/DELETE by run id: no row changed means no such run.
void requireChanged(const Operation& op, std::int64_t id)
{
    if (sqlite3_changes(op.db) == 0)
        throw runNotFound(op.path, id);
}

/// ISO 8601 UTC, second resolution: sorts as text, reads in any time zone.
std::string utcNow()
{
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc); // std::gmtime shares a static buffer between threads
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

RunRecord readRun(const Statement& row)
{
    RunRecord run;
    run.id = row.int64(0);
    run.name = row.text(1);
    run.method = row.text(2);
    run.status = parseRunStatus(row.text(3));
    run.configJson = row.text(4);
    run.modelPath = row.text(5);
    run.modelFingerprint = row.text(6);
    run.createdAt = row.text(7);
    run.startedAt = row.text(8);
    run.finishedAt = row.text(9);
    run.seconds = row.real(10);
    run.errorMessage = row.text(11);
    run.parentRunId = row.int64(12); // NULL reads as 0: no parent
    run.kind = parseRunKind(row.text(13));
    return run;
}

struct SchemaState {
    std::int64_t version = 0; ///< PRAGMA user_version
    std::int64_t objects = 0; ///< tables, indexes, ... of any kind
};

SchemaState readSchemaState(const Operation& op)
{
    // One statement, so both numbers come from one snapshot even while another process migrates.
    Statement query(op, "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)");
    if (!query.step())
        op.fail("no schema information");
    return {query.int64(0), query.int64(1)};
}

/// Throws for a file this build must not touch: newer than it, or some other SQLite database.
void checkSchemaState(const std::string& path, const SchemaState& state)
{
    if (state.version > Catalog::kSchemaVersion)
        throw Error(path + ": written by a newer Quantscope (schema version " + std::to_string(state.version) +
                    "; this build reads up to " + std::to_string(Catalog::kSchemaVersion) + ")");
    if (state.version < 0)
        throw Error(path + ": not a Quantscope catalog (schema version " + std::to_string(state.version) + ")");
    if (state.version == 0 && state.objects > 0)
        throw Error(path + ": not a Quantscope catalog (an SQLite database with tables but no schema version)");
}

} // namespace

std::string runKindName(RunKind kind)
{
    switch (kind) {
    case RunKind::Ptq:
        return "ptq";
    case RunKind::TestTimeAdapted:
        return "tta";
    case RunKind::Preprocessed:
        return "preprocessed";
    }
    return "ptq";
}

RunKind parseRunKind(const std::string& name)
{
    if (name == "tta")
        return RunKind::TestTimeAdapted;
    if (name == "preprocessed")
        return RunKind::Preprocessed;
    if (name == "ptq" || name.empty())
        return RunKind::Ptq;
    throw Error("unknown run kind '" + name + "' (known: ptq, tta, preprocessed)");
}

std::string runStatusName(RunStatus status)
{
    switch (status) {
    case RunStatus::Queued:
        return "queued";
    case RunStatus::Running:
        return "running";
    case RunStatus::Finished:
        return "finished";
    case RunStatus::Failed:
        return "failed";
    case RunStatus::Cancelled:
        return "cancelled";
    }
    throw Error("invalid run status " + std::to_string(static_cast<int>(status)));
}

RunStatus parseRunStatus(const std::string& name)
{
    for (RunStatus status :
         {RunStatus::Queued, RunStatus::Running, RunStatus::Finished, RunStatus::Failed, RunStatus::Cancelled}) {
        if (runStatusName(status) == name)
            return status;
    }
    throw Error("unknown run status '" + name + "' (expected queued, running, finished, failed or cancelled)");
}

void Catalog::ConnectionCloser::operator()(sqlite3* db) const noexcept
{
    sqlite3_close_v2(db);
}

Catalog::Catalog(std::string path, OpenMode mode) : m_path(std::move(path)), m_mode(mode)
{
    open();
    configureConnection();

    // Checked before anything writes (switching to WAL rewrites the header), so that a file
    // that is not ours, or comes from a newer build, is left byte for byte as it was.
    reopenImmutableIfUnreadable();
    const Operation op{m_db.get(), m_path, "read the schema version"};
    const SchemaState found = readSchemaState(op);
    checkSchemaState(m_path, found);

    if (m_mode == OpenMode::ReadOnly) {
        if (found.version == 0)
            throw Error(m_path + ": not a Quantscope catalog (no schema version; a writer creates it)");
        if (found.version < kSchemaVersion)
            throw Error(m_path + ": catalog schema version " + std::to_string(found.version) +
                        " is older than this build's " + std::to_string(kSchemaVersion) +
                        "; open it read-write once to upgrade it");
        m_schemaVersion = static_cast<int>(found.version);
        return;
    }
    enableWal();
    migrate(static_cast<int>(found.version));
}

void Catalog::reopenImmutableIfUnreadable()
{
    try {
        readSchemaState(Operation{m_db.get(), m_path, "read the schema version"});
        return;
    } catch (const Error&) {
        // A reader of a WAL database writes its shared-memory index (-shm), which a full disk or
        // a size limit refuses. When the write-ahead log holds nothing, the catalog file is the
        // whole database, and reading it as immutable (no locks, no -shm) is exact. Otherwise
        // the log's commits would be missed: the error stands.
        namespace fs = std::filesystem;
        std::error_code error;
        const std::string wal = m_path + "-wal";
        const bool walEmpty = !fs::exists(wal, error) || fs::file_size(wal, error) == 0;
        if (m_mode != OpenMode::ReadOnly || !walEmpty || error)
            throw;
    }
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2((fileUri(m_path) + "?immutable=1").c_str(), &db,
                                   SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nullptr);
    m_db.reset(db);
    if (rc != SQLITE_OK)
        Operation{m_db.get(), m_path, "open the catalog (immutable)"}.fail(rc);
    configureConnection();
}

Catalog::~Catalog() = default;
Catalog::Catalog(Catalog&& other) noexcept = default;
Catalog& Catalog::operator=(Catalog&& other) noexcept = default;

void Catalog::open()
{
    namespace fs = std::filesystem;
    const fs::path file(m_path);
    std::error_code ignored; // a failed check reads as "missing", and the message says so
    if (m_mode == OpenMode::ReadOnly) {
        if (!fs::exists(file, ignored))
            throw Error(m_path + ": no such catalog file");
    } else {
        const fs::path directory = file.has_parent_path() ? file.parent_path() : fs::path(".");
        if (!fs::is_directory(directory, ignored))
            throw Error(m_path + ": directory " + directory.string() + " does not exist");
    }
    // SQLite files are empty or at least one 512-byte page long. SQLite itself reads a 1-byte
    // file as an empty database (a workaround in its Unix VFS) and would overwrite it.
    const std::uintmax_t size = fs::is_regular_file(file, ignored) ? fs::file_size(file, ignored) : 0;
    if (size > 0 && size < 512)
        throw Error(m_path + ": not a Quantscope catalog (a file of " + std::to_string(size) +
                    " bytes; SQLite databases have at least 512)");

    // NOMUTEX: one Catalog per thread (catalog.h), so SQLite's per-call locking buys nothing.
    // URI: importRun attaches shards read-only ("file:...?mode=ro").
    const int flags =
        SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
        (m_mode == OpenMode::ReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(m_path.c_str(), &db, flags, nullptr);
    m_db.reset(db); // even a failed open returns a handle that must be closed
    if (rc != SQLITE_OK)
        Operation{m_db.get(), m_path, "open the catalog"}.fail(rc);
}

void Catalog::configureConnection()
{
    const Operation op{m_db.get(), m_path, "configure the connection"};
    sqlite3_extended_result_codes(m_db.get(), 1);
    setBusyTimeoutMs(kDefaultBusyTimeoutMs);
    // Off by default and per connection: without it ON DELETE CASCADE silently does nothing.
    exec(op, "PRAGMA foreign_keys = ON");
    Statement check(op, "PRAGMA foreign_keys");
    if (!check.step() || check.int64(0) != 1)
        op.fail("this SQLite cannot enforce foreign keys");
}

void Catalog::enableWal()
{
    const Operation op{m_db.get(), m_path, "enable write-ahead logging"};
    Statement pragma(op, "PRAGMA journal_mode = WAL");
    const std::string journalMode = pragma.step() ? pragma.text(0) : std::string();
    if (journalMode != "wal") // SQLite keeps the old mode where WAL is impossible
        op.fail("journal mode stayed '" + journalMode + "'; is the file on a network file system?");
    // In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last commits, and
    // each commit (one per run update or metric batch) is spared an fsync.
    exec(op, "PRAGMA synchronous = NORMAL");
}

void Catalog::migrate(int foundVersion)
{
    m_schemaVersion = foundVersion;
    while (m_schemaVersion < kSchemaVersion) {
        const Operation op{m_db.get(), m_path,
                           "upgrade the catalog to schema version " + std::to_string(m_schemaVersion + 1)};
        Transaction transaction(op, Transaction::Kind::Write);
        // Read again under the write lock: another process may have migrated since we looked.
        const SchemaState state = readSchemaState(op);
        checkSchemaState(m_path, state);
        if (state.version != m_schemaVersion) {
            m_schemaVersion = static_cast<int>(state.version);
            continue; // nothing was written; the transaction just ends
        }
        exec(op, kMigrations[m_schemaVersion]);
        exec(op, ("PRAGMA user_version = " + std::to_string(m_schemaVersion + 1)).c_str());
        transaction.commit();
        ++m_schemaVersion;
    }
}

void Catalog::setBusyTimeoutMs(int milliseconds)
{
    sqlite3_busy_timeout(m_db.get(), milliseconds);
}

std::int64_t Catalog::createRun(const NewRun& run)
{
    const Operation op{m_db.get(), m_path, "create run '" + run.name + "'"};
    // Checked before the write transaction (a read opens its own); the foreign key still
    // refuses a parent deleted in between.
    if (run.parentRunId != 0 && !findRun(run.parentRunId))
        throw runNotFound(m_path, run.parentRunId);
    Transaction transaction = beginWrite(op, m_mode);
    Statement insert(op, "INSERT INTO runs (name, method, status, config_json, model_path, model_fingerprint, "
                         "created_at, parent_run_id, kind) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8)");
    insert.bindText(1, run.name).bindText(2, run.method).bindText(3, run.configJson);
    insert.bindText(4, run.modelPath).bindText(5, run.modelFingerprint).bindText(6, utcNow());
    if (run.parentRunId != 0)
        insert.bindInt(7, run.parentRunId);
    insert.bindText(8, runKindName(run.kind));
    insert.execute();
    const std::int64_t id = sqlite3_last_insert_rowid(m_db.get());
    transaction.commit();
    return id;
}

std::int64_t Catalog::importRun(const std::string& sourcePath, std::int64_t sourceRunId,
                                const std::function<void(std::int64_t)>& placeFiles)
{
    const Operation op{m_db.get(), m_path, "import run " + std::to_string(sourceRunId) + " of " + sourcePath};
    if (m_mode == OpenMode::ReadOnly)
        throw Error(m_path + ": opened read-only, cannot " + op.what);
    // ATTACH cannot run inside a transaction; DETACH happens however this ends.
    Statement attach(op, "ATTACH DATABASE ?1 AS shard");
    // Read-only: BEGIN IMMEDIATE would otherwise lock the shard too, and a shard on a read-only
    // file system could not be attached at all.
    attach.bindText(1, fileUri(sourcePath) + "?mode=ro").execute();
    struct Detach {
        sqlite3* db;
        ~Detach() { sqlite3_exec(db, "DETACH DATABASE shard", nullptr, nullptr, nullptr); }
    } detach{m_db.get()};
    Statement version(op, "PRAGMA shard.user_version");
    if (!version.step() || version.int64(0) != kSchemaVersion)
        throw Error(sourcePath + ": not a catalog of schema version " + std::to_string(kSchemaVersion) +
                    " (import run " + std::to_string(sourceRunId) + ")");
    Transaction transaction = beginWrite(op, m_mode);
    Statement source(op, "SELECT 1 FROM shard.runs WHERE id = ?1");
    if (!source.bindInt(1, sourceRunId).step())
        throw runNotFound(sourcePath, sourceRunId);
    Statement insert(op, "INSERT INTO runs (name, method, status, config_json, model_path, model_fingerprint, "
                         "created_at, started_at, finished_at, seconds, error_message, kind) "
                         "SELECT name, method, status, config_json, model_path, model_fingerprint, created_at, "
                         "started_at, finished_at, seconds, error_message, kind FROM shard.runs WHERE id = ?1");
    insert.bindInt(1, sourceRunId).execute();
    const std::int64_t id = sqlite3_last_insert_rowid(m_db.get());
    // Each table's rows in their insertion order (rowid), which layerMetrics keeps.
    for (const char* sql :
         {"INSERT INTO dataset_metrics SELECT ?2, dataset, metric, value FROM shard.dataset_metrics "
          "WHERE run_id = ?1 ORDER BY rowid",
          "INSERT INTO layer_metrics SELECT ?2, layer, block, metric, value FROM shard.layer_metrics "
          "WHERE run_id = ?1 ORDER BY rowid",
          "INSERT INTO run_metrics SELECT ?2, metric, value FROM shard.run_metrics WHERE run_id = ?1 ORDER BY rowid",
          "INSERT INTO task_metrics SELECT ?2, task, metric, value, stderr, documents, reported "
          "FROM shard.task_metrics WHERE run_id = ?1 ORDER BY rowid",
          "INSERT INTO run_tags SELECT ?2, tag FROM shard.run_tags WHERE run_id = ?1"}) {
        Statement copy(op, sql);
        copy.bindInt(1, sourceRunId).bindInt(2, id).execute();
    }
    Statement baselines(op, "INSERT OR IGNORE INTO fp_baselines SELECT * FROM shard.fp_baselines");
    baselines.execute();
    if (placeFiles)
        placeFiles(id);
    transaction.commit();
    return id;
}

void Catalog::setRunStatus(std::int64_t id, RunStatus status, const std::string& errorMessage)
{
    const std::string name = runStatusName(status);
    const Operation op{m_db.get(), m_path, "set the status of run " + std::to_string(id) + " to " + name};
    Transaction transaction = beginWrite(op, m_mode);
    // queued: not started yet; running: started now, not finished; anything else: finished now.
    Statement update(op, "UPDATE runs SET status = ?2, error_message = ?3, "
                         "started_at = CASE ?2 WHEN 'queued' THEN NULL WHEN 'running' THEN ?4 ELSE started_at END, "
                         "finished_at = CASE WHEN ?2 IN ('queued', 'running') THEN NULL ELSE ?4 END "
                         "WHERE id = ?1");
    update.bindInt(1, id).bindText(2, name).bindOptionalText(3, errorMessage).bindText(4, utcNow());
    update.execute();
    requireChanged(op, id);
    transaction.commit();
}

void Catalog::setRunSeconds(std::int64_t id, double seconds)
{
    const Operation op{m_db.get(), m_path, "set the time of run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    Statement update(op, "UPDATE runs SET seconds = ?2 WHERE id = ?1");
    update.bindInt(1, id).bindReal(2, seconds).execute();
    requireChanged(op, id);
    transaction.commit();
}

void Catalog::renameRun(std::int64_t id, const std::string& name)
{
    const Operation op{m_db.get(), m_path, "rename run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    Statement update(op, "UPDATE runs SET name = ?2 WHERE id = ?1");
    update.bindInt(1, id).bindText(2, name).execute();
    requireChanged(op, id);
    transaction.commit();
}

void Catalog::setRunTags(std::int64_t id, const std::vector<std::string>& tags)
{
    const Operation op{m_db.get(), m_path, "set the tags of run " + std::to_string(id)};
    for (const std::string& tag : tags) {
        if (tag.empty())
            op.fail("empty tag");
    }
    Transaction transaction = beginWrite(op, m_mode);
    requireRun(op, id);
    Statement clear(op, "DELETE FROM run_tags WHERE run_id = ?1");
    clear.bindInt(1, id).execute();
    Statement insert(op, "INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?1, ?2)"); // IGNORE: duplicates
    for (const std::string& tag : tags) {
        insert.bindInt(1, id).bindText(2, tag).execute();
        insert.reset();
    }
    transaction.commit();
}

void Catalog::deleteRun(std::int64_t id)
{
    const Operation op{m_db.get(), m_path, "delete run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    Statement remove(op, "DELETE FROM runs WHERE id = ?1"); // metrics and tags go by ON DELETE CASCADE
    remove.bindInt(1, id).execute();
    requireChanged(op, id);
    transaction.commit();
}

void Catalog::addDatasetMetrics(std::int64_t id, const std::vector<DatasetMetric>& metrics)
{
    const Operation op{m_db.get(), m_path, "add dataset metrics to run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    requireRun(op, id);
    Statement insert(op, "INSERT OR REPLACE INTO dataset_metrics (run_id, dataset, metric, value) "
                         "VALUES (?1, ?2, ?3, ?4)");
    for (const DatasetMetric& metric : metrics) {
        insert.bindInt(1, id).bindText(2, metric.dataset).bindText(3, metric.metric).bindReal(4, metric.value);
        insert.execute();
        insert.reset();
    }
    transaction.commit();
}

void Catalog::addRunMetrics(std::int64_t id, const std::map<std::string, double>& metrics)
{
    const Operation op{m_db.get(), m_path, "add run metrics to run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    requireRun(op, id);
    Statement insert(op, "INSERT OR REPLACE INTO run_metrics (run_id, metric, value) VALUES (?1, ?2, ?3)");
    for (const auto& [metric, value] : metrics) {
        insert.bindInt(1, id).bindText(2, metric).bindReal(3, value);
        insert.execute();
        insert.reset();
    }
    transaction.commit();
}

void Catalog::addLayerMetrics(std::int64_t id, const std::vector<LayerMetric>& metrics)
{
    const Operation op{m_db.get(), m_path, "add layer metrics to run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    requireRun(op, id);
    // REPLACE deletes the old row and inserts a new one: a replaced metric gets a new rowid.
    Statement insert(op, "INSERT OR REPLACE INTO layer_metrics (run_id, layer, block, metric, value) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const LayerMetric& metric : metrics) {
        insert.bindInt(1, id).bindText(2, metric.layer).bindInt(3, metric.block).bindText(4, metric.metric);
        insert.bindReal(5, metric.value).execute();
        insert.reset();
    }
    transaction.commit();
}

void Catalog::storeFpBaseline(const FpBaselineKey& key, const FpBaseline& baseline)
{
    const Operation op{m_db.get(), m_path, "store the full-precision baseline of " + key.modelFingerprint};
    Transaction transaction = beginWrite(op, m_mode);
    Statement insert(op, "INSERT OR REPLACE INTO fp_baselines (model_fingerprint, dataset_fingerprint, seq_len, "
                         "max_windows, perplexity, tokens, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert.bindText(1, key.modelFingerprint).bindText(2, key.datasetFingerprint).bindInt(3, key.seqLen);
    insert.bindInt(4, key.maxWindows).bindReal(5, baseline.perplexity).bindInt(6, baseline.tokens);
    insert.bindText(7, utcNow()).execute();
    transaction.commit();
}

int Catalog::failAbandonedRuns()
{
    const Operation op{m_db.get(), m_path, "fail abandoned runs"};
    Transaction transaction = beginWrite(op, m_mode);
    Statement update(op, "UPDATE runs SET status = 'failed', error_message = 'interrupted', finished_at = ?1 "
                         "WHERE status IN ('queued', 'running')");
    update.bindText(1, utcNow()).execute();
    const int count = sqlite3_changes(m_db.get());
    transaction.commit();
    return count;
}

std::vector<RunRecord> Catalog::listRuns() const
{
    const Operation op{m_db.get(), m_path, "list runs"};
    const Transaction snapshot(op, Transaction::Kind::Read);
    std::vector<RunRecord> runs;
    Statement query(op, std::string(kSelectRuns) + " ORDER BY id");
    while (query.step())
        runs.push_back(readRun(query));

    // All tags in one query, merged by walking both lists in id order: no query per run.
    Statement tags(op, "SELECT run_id, tag FROM run_tags ORDER BY run_id, tag");
    auto run = runs.begin();
    while (tags.step()) {
        const std::int64_t runId = tags.int64(0);
        while (run != runs.end() && run->id < runId)
            ++run;
        if (run != runs.end() && run->id == runId)
            run->tags.push_back(tags.text(1));
    }
    return runs;
}

std::optional<RunRecord> Catalog::findRun(std::int64_t id) const
{
    const Operation op{m_db.get(), m_path, "read run " + std::to_string(id)};
    const Transaction snapshot(op, Transaction::Kind::Read);
    Statement query(op, std::string(kSelectRuns) + " WHERE id = ?1");
    if (!query.bindInt(1, id).step())
        return std::nullopt;
    RunRecord run = readRun(query);
    Statement tags(op, "SELECT tag FROM run_tags WHERE run_id = ?1 ORDER BY tag");
    tags.bindInt(1, id);
    while (tags.step())
        run.tags.push_back(tags.text(0));
    return run;
}

RunRecord Catalog::run(std::int64_t id) const
{
    std::optional<RunRecord> found = findRun(id);
    if (!found)
        throw runNotFound(m_path, id);
    return std::move(*found);
}

void Catalog::addTaskMetrics(std::int64_t id, const std::vector<TaskMetricRecord>& metrics)
{
    const Operation op{m_db.get(), m_path, "add task metrics to run " + std::to_string(id)};
    Transaction transaction = beginWrite(op, m_mode);
    requireRun(op, id);
    Statement insert(op, "INSERT OR REPLACE INTO task_metrics (run_id, task, metric, value, stderr, documents, "
                         "reported) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    for (const TaskMetricRecord& metric : metrics) {
        insert.bindInt(1, id)
            .bindText(2, metric.task)
            .bindText(3, metric.metric)
            .bindReal(4, metric.value)
            .bindReal(5, metric.standardError)
            .bindInt(6, metric.documents)
            .bindInt(7, metric.reported ? 1 : 0);
        insert.execute();
        insert.reset();
    }
    transaction.commit();
}

std::vector<TaskMetricRecord> Catalog::taskMetrics(std::int64_t id) const
{
    const Operation op{m_db.get(), m_path, "read the task metrics of run " + std::to_string(id)};
    const Transaction snapshot(op, Transaction::Kind::Read);
    requireRun(op, id);
    Statement query(op, "SELECT task, metric, value, stderr, documents, reported FROM task_metrics WHERE run_id = ?1 "
                        "ORDER BY task, metric");
    query.bindInt(1, id);
    std::vector<TaskMetricRecord> metrics;
    while (query.step())
        metrics.push_back(
            {query.text(0), query.text(1), query.real(2), query.real(3), query.int64(4), query.int64(5) != 0});
    return metrics;
}

std::map<std::int64_t, std::vector<TaskMetricRecord>> Catalog::taskMetricsOfAllRuns() const
{
    const Operation op{m_db.get(), m_path, "read the task metrics of every run"};
    const Transaction snapshot(op, Transaction::Kind::Read);
    Statement query(op, "SELECT run_id, task, metric, value, stderr, documents, reported FROM task_metrics "
                        "ORDER BY run_id, task, metric");
    std::map<std::int64_t, std::vector<TaskMetricRecord>> values;
    while (query.step())
        values[query.int64(0)].push_back(
            {query.text(1), query.text(2), query.real(3), query.real(4), query.int64(5), query.int64(6) != 0});
    return values;
}

std::vector<DatasetMetric> Catalog::datasetMetrics(std::int64_t id) const
{
    const Operation op{m_db.get(), m_path, "read the dataset metrics of run " + std::to_string(id)};
    const Transaction snapshot(op, Transaction::Kind::Read);
    requireRun(op, id);
    Statement query(op,
                    "SELECT dataset, metric, value FROM dataset_metrics WHERE run_id = ?1 ORDER BY dataset, metric");
    query.bindInt(1, id);
    std::vector<DatasetMetric> metrics;
    while (query.step())
        metrics.push_back({query.text(0), query.text(1), query.real(2)});
    return metrics;
}

std::map<std::int64_t, std::map<std::string, double>> Catalog::datasetMetricOfAllRuns(const std::string& metric) const
{
    const Operation op{m_db.get(), m_path, "read " + metric + " of every run"};
    const Transaction snapshot(op, Transaction::Kind::Read);
    Statement query(op, "SELECT run_id, dataset, value FROM dataset_metrics WHERE metric = ?1");
    query.bindText(1, metric);
    std::map<std::int64_t, std::map<std::string, double>> values;
    while (query.step())
        values[query.int64(0)][query.text(1)] = query.real(2);
    return values;
}

std::map<std::string, double> Catalog::runMetrics(std::int64_t id) const
{
    const Operation op{m_db.get(), m_path, "read the run metrics of run " + std::to_string(id)};
    const Transaction snapshot(op, Transaction::Kind::Read);
    requireRun(op, id);
    Statement query(op, "SELECT metric, value FROM run_metrics WHERE run_id = ?1");
    query.bindInt(1, id);
    std::map<std::string, double> metrics;
    while (query.step())
        metrics[query.text(0)] = query.real(1);
    return metrics;
}

std::map<std::int64_t, double> Catalog::runMetricOfAllRuns(const std::string& metric) const
{
    const Operation op{m_db.get(), m_path, "read " + metric + " of every run"};
    const Transaction snapshot(op, Transaction::Kind::Read);
    Statement query(op, "SELECT run_id, value FROM run_metrics WHERE metric = ?1");
    query.bindText(1, metric);
    std::map<std::int64_t, double> values;
    while (query.step())
        values[query.int64(0)] = query.real(1);
    return values;
}

std::vector<LayerMetric> Catalog::layerMetrics(std::int64_t id) const
{
    const Operation op{m_db.get(), m_path, "read the layer metrics of run " + std::to_string(id)};
    const Transaction snapshot(op, Transaction::Kind::Read);
    requireRun(op, id);
    Statement query(op,
                    "SELECT layer, block, metric, value FROM layer_metrics WHERE run_id = ?1 ORDER BY block, rowid");
    query.bindInt(1, id);
    std::vector<LayerMetric> metrics;
    while (query.step())
        metrics.push_back({query.text(0), query.int64(1), query.text(2), query.real(3)});
    return metrics;
}

std::optional<FpBaseline> Catalog::findFpBaseline(const FpBaselineKey& key) const
{
    const Operation op{m_db.get(), m_path, "read the full-precision baseline of " + key.modelFingerprint};
    Statement query(op, "SELECT perplexity, tokens FROM fp_baselines WHERE model_fingerprint = ?1 AND "
                        "dataset_fingerprint = ?2 AND seq_len = ?3 AND max_windows = ?4");
    query.bindText(1, key.modelFingerprint).bindText(2, key.datasetFingerprint).bindInt(3, key.seqLen);
    if (!query.bindInt(4, key.maxWindows).step())
        return std::nullopt;
    return FpBaseline{query.real(0), query.int64(1)};
}

} // namespace core
