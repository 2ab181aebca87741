//! Schema migrations, applied in order at start and recorded in `schema_migrations`.
//! Types are kept to those PostgreSQL shares (INTEGER/BIGINT, TEXT, BLOB/BYTEA).

use rusqlite::{Connection, OptionalExtension};

/// Each entry is one migration; never edit a released one, append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE apps (
    app_key     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE tokens (
    token_hash  TEXT PRIMARY KEY,
    app_key     BIGINT REFERENCES apps(app_key) ON DELETE CASCADE,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE TABLE modules (
    sha256      TEXT PRIMARY KEY,
    bytes       BLOB NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE functions (
    id                INTEGER PRIMARY KEY,
    app_key           BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    remark            TEXT NOT NULL DEFAULT '',
    plan              TEXT NOT NULL,
    sync_timeout_ms   BIGINT NOT NULL,
    async_timeout_ms  BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (app_key, name)
);
CREATE TABLE function_versions (
    function_id    BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    module_sha256  TEXT NOT NULL REFERENCES modules(sha256),
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (function_id, version)
);
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    app_key        BIGINT NOT NULL,
    function_id    BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    module_sha256  TEXT NOT NULL,
    memory_limit   BIGINT NOT NULL,
    source         TEXT NOT NULL,
    service_type   TEXT NOT NULL,
    status         TEXT NOT NULL,
    input          TEXT NOT NULL,
    output         TEXT,
    error_code     TEXT,
    error_message  TEXT,
    mem_usage      BIGINT NOT NULL DEFAULT 0,
    timeout_ms     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT
);
CREATE INDEX jobs_by_function ON jobs (function_id, id);
-- Only unfinished jobs are looked up by status (the dispatcher); sync jobs are inserted
-- finished and never enter this index.
CREATE INDEX jobs_waiting ON jobs (id) WHERE status = 'waiting';
CREATE INDEX jobs_executing ON jobs (id) WHERE status = 'executing';
CREATE TABLE job_logs (
    job_id  BIGINT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    text    TEXT NOT NULL
);
"#,
    r#"
CREATE TABLE bins (
    id             TEXT PRIMARY KEY,
    app_key        BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    module_sha256  TEXT NOT NULL REFERENCES modules(sha256),
    manifest       TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE TABLE instances (
    id          TEXT PRIMARY KEY,
    app_key     BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    bin_id      TEXT NOT NULL REFERENCES bins(id),
    status      TEXT NOT NULL,
    state       TEXT NOT NULL,
    runs        BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT,
    service     TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE TABLE function_bindings (
    app_key        BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    function_key   TEXT NOT NULL,
    function_name  TEXT,
    url            TEXT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (app_key, function_key)
);
CREATE TABLE services (
    app_key     BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    alias       TEXT NOT NULL,
    category    INTEGER NOT NULL,
    bin_id      TEXT NOT NULL REFERENCES bins(id),
    revoked     INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (app_key, alias)
);
"#,
    r#"
CREATE TABLE flows (
    id              INTEGER PRIMARY KEY,
    app_key         BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    latest_version  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (app_key, name)
);
CREATE TABLE flow_versions (
    flow_id      BIGINT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    format       TEXT NOT NULL,
    definition   TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (flow_id, version)
);
CREATE TABLE executions (
    id            TEXT PRIMARY KEY,
    app_key       BIGINT NOT NULL,
    flow_id       BIGINT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    flow_name     TEXT NOT NULL,
    flow_version  BIGINT NOT NULL,
    name          TEXT,
    status        TEXT NOT NULL,
    input         TEXT NOT NULL,
    output        TEXT,
    error         TEXT,
    callback_url  TEXT,
    state         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    deadline_at   BIGINT,
    updated_at    BIGINT NOT NULL
);
-- NULL names never collide, so unnamed executions are not limited.
CREATE UNIQUE INDEX executions_by_name ON executions (flow_id, name);
CREATE INDEX executions_by_flow ON executions (flow_id, created_at, id);
-- Only unfinished executions are looked up by status (resuming after a restart).
CREATE INDEX executions_unfinished ON executions (created_at, id) WHERE status IN ('Starting', 'Running');
CREATE TABLE execution_events (
    execution_id  TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    node          TEXT,
    detail        TEXT NOT NULL,
    PRIMARY KEY (execution_id, seq)
);
"#,
    // Ids are never reused (AUTOINCREMENT): a deleted function's job ids used to come back
    // for another caller's jobs, and a deleted flow's id for a new flow. Tokens get an id
    // to list and revoke them by, and an origin: `start` tokens are the ones given to (or
    // generated by) a server start, replaced at the next start.
    r#"
CREATE TABLE tokens_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash  TEXT NOT NULL UNIQUE,
    app_key     BIGINT REFERENCES apps(app_key) ON DELETE CASCADE,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    origin      TEXT NOT NULL DEFAULT 'issued',
    created_at  BIGINT NOT NULL
);
INSERT INTO tokens_new (token_hash, app_key, is_admin, origin, created_at)
    SELECT token_hash, app_key, is_admin, 'issued', created_at FROM tokens ORDER BY created_at;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_by_app ON tokens (app_key, id);

CREATE TABLE functions_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key           BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    remark            TEXT NOT NULL DEFAULT '',
    plan              TEXT NOT NULL,
    sync_timeout_ms   BIGINT NOT NULL,
    async_timeout_ms  BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (app_key, name)
);
INSERT INTO functions_new SELECT * FROM functions;
DROP TABLE functions;
ALTER TABLE functions_new RENAME TO functions;

CREATE TABLE jobs_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key        BIGINT NOT NULL,
    function_id    BIGINT NOT NULL REFERENCES functions(id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    module_sha256  TEXT NOT NULL,
    memory_limit   BIGINT NOT NULL,
    source         TEXT NOT NULL,
    service_type   TEXT NOT NULL,
    status         TEXT NOT NULL,
    input          TEXT NOT NULL,
    output         TEXT,
    error_code     TEXT,
    error_message  TEXT,
    mem_usage      BIGINT NOT NULL DEFAULT 0,
    timeout_ms     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT
);
INSERT INTO jobs_new SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_by_function ON jobs (function_id, id);
CREATE INDEX jobs_waiting ON jobs (id) WHERE status = 'waiting';
CREATE INDEX jobs_executing ON jobs (id) WHERE status = 'executing';

CREATE TABLE flows_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key         BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    latest_version  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (app_key, name)
);
INSERT INTO flows_new SELECT * FROM flows;
DROP TABLE flows;
ALTER TABLE flows_new RENAME TO flows;

-- Each rebuilt table continues its ids after the highest ever used.
DELETE FROM sqlite_sequence WHERE name IN ('tokens', 'tokens_new', 'functions', 'functions_new', 'jobs', 'jobs_new',
    'flows', 'flows_new');
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'tokens', COALESCE(MAX(id), 0) FROM tokens
    UNION ALL SELECT 'functions', COALESCE(MAX(id), 0) FROM functions
    UNION ALL SELECT 'jobs', COALESCE(MAX(id), 0) FROM jobs
    UNION ALL SELECT 'flows', COALESCE(MAX(id), 0) FROM flows;

-- Admission limits an admin set for an app (JSON: max_running, max_queue, rate_per_sec, burst).
CREATE TABLE app_limits (
    app_key  BIGINT PRIMARY KEY REFERENCES apps(app_key) ON DELETE CASCADE,
    limits   TEXT NOT NULL
);

-- /healthz's probe whether a write of some size goes through again (a row written and
-- deleted in one transaction).
CREATE TABLE health_probe (
    id   INTEGER PRIMARY KEY,
    pad  BLOB NOT NULL
);
"#,
    // An execution's state is stored as a head (in `executions.state`) and parts, so a
    // transition writes only the parts it changed (see flows/scheduler/persist.rs). Rows
    // written before hold the whole state in the head and no parts.
    r#"
CREATE TABLE execution_parts (
    execution_id  TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    part          TEXT NOT NULL,
    body          TEXT NOT NULL,
    PRIMARY KEY (execution_id, part)
) WITHOUT ROWID;
"#,
    // Async jobs are leased by the node that claimed them: `claimed_by` names it and
    // `nodes` keeps each node's heartbeat. A node whose heartbeat is older than the lease
    // has its executing jobs put back to waiting by any other node; a node's own restart
    // puts back only its own.
    r#"
CREATE TABLE nodes (
    id            TEXT NOT NULL PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL
);
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
"#,
    // Flow executions are leased like jobs: `owner` names the node that drives one, and
    // another node takes it over once that node's heartbeat is stale. A finish callback or
    // a stop that reaches another node is stored as a signal the owner takes. A job's
    // `restarts` counts how often it went back to waiting after its node stopped.
    r#"
ALTER TABLE executions ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE execution_signals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    task          TEXT,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    outcome       TEXT
);
CREATE INDEX execution_signals_open ON execution_signals (execution_id) WHERE outcome IS NULL;
"#,
    // Start tokens belong to the node that registered them: a node's new start token
    // revokes only its own previous one, so nodes on one database keep each other's.
    r#"
ALTER TABLE tokens ADD COLUMN node TEXT;
"#,
    // Seed 000's roles: an app's token is its developer's (everything) or a service
    // user's (runs published services only).
    r#"
ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'developer';
"#,
    // Secrets the server signs with (task tokens), shared by every node on the database.
    r#"
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
"#,
    // Seed 000, 4.2: an app's engine-layer URL, and the outbox of variable updates to
    // deliver there, written with the run that made them.
    r#"
CREATE TABLE engine_layers (
    app_key         BIGINT PRIMARY KEY REFERENCES apps(app_key) ON DELETE CASCADE,
    var_update_url  TEXT,
    updated_at      BIGINT NOT NULL
);
CREATE TABLE var_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key       BIGINT NOT NULL REFERENCES apps(app_key) ON DELETE CASCADE,
    instance_id   TEXT NOT NULL,
    variable_key  TEXT NOT NULL,
    url           TEXT NOT NULL,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL,
    last_error    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX var_deliveries_due ON var_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX var_deliveries_instance ON var_deliveries (app_key, instance_id, id);
"#,
    // The console's lists of an app's bins and instances, newest first.
    r#"
CREATE INDEX bins_by_app ON bins (app_key, created_at);
CREATE INDEX instances_by_app ON instances (app_key, created_at);
"#,
];

/// Applies the migrations this database has not seen yet, each in its own transaction.
/// Foreign keys are off while they run (SQLite's procedure for rebuilding a table: a
/// dropped table's rows must not cascade), and checked before each commit.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )?;
    let applied: i64 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = apply(conn, applied);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

fn apply(conn: &mut Connection, applied: i64) -> rusqlite::Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= applied {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
        if let Some(table) = broken {
            let message = format!("migration {version} left rows of {table} whose references are missing");
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                Some(message),
            ));
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            (version, cloudexec_engine::clock::now_us()),
        )?;
        tx.commit()?;
        tracing::info!(version, "applied schema migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::{MIGRATIONS, migrate};

    /// A database as the server before migration 4 left it, with a row in every table the
    /// migration rebuilds (and in the tables that refer to them).
    fn before_migration_4() -> Connection {
        let mut conn = Connection::open_in_memory().expect("opens");
        conn.pragma_update(None, "foreign_keys", "ON").expect("pragma");
        conn.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .expect("table");
        let tx = conn.transaction().expect("tx");
        for (i, sql) in MIGRATIONS.iter().take(3).enumerate() {
            tx.execute_batch(sql).expect("old migration");
            tx.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [i as i64 + 1]).expect("recorded");
        }
        tx.execute_batch(
            "INSERT INTO apps VALUES (1, 'default', 1);
             INSERT INTO tokens VALUES ('hash-a', 1, 0, 2), ('hash-admin', NULL, 1, 3);
             INSERT INTO modules VALUES ('sha', x'00', 1, 1);
             INSERT INTO functions VALUES (7, 1, 'hello', '', 'P_FREE', 5000, 300000, 1, 1, 1);
             INSERT INTO function_versions VALUES (7, 1, 'sha', 1);
             INSERT INTO jobs (id, app_key, function_id, version, module_sha256, memory_limit, source, service_type,
                 status, input, timeout_ms, created_at) VALUES (41, 1, 7, 1, 'sha', 1, 'open_api', 'batch', 'waiting', '{}', 1, 1);
             INSERT INTO job_logs VALUES (41, 'a log');
             INSERT INTO flows VALUES (3, 1, 'f', 1, 1, 1);
             INSERT INTO flow_versions VALUES (3, 1, 'dag', 'tasks: []', '', 1);
             INSERT INTO executions (id, app_key, flow_id, flow_name, flow_version, status, input, state, created_at,
                 updated_at) VALUES ('e', 1, 3, 'f', 1, 'Running', '{}', '{}', 1, 1);
             INSERT INTO execution_events VALUES ('e', 1, 1, 'ExecutionStarted', NULL, '{}');",
        )
        .expect("rows");
        tx.commit().expect("commit");
        conn
    }

    #[test]
    fn migration_4_keeps_every_row_and_reference_and_ids_are_not_reused() {
        let mut conn = before_migration_4();
        migrate(&mut conn).expect("migrates");
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect("counts");
        assert_eq!(count("SELECT COUNT(*) FROM tokens WHERE origin = 'issued'"), 2);
        assert_eq!(count("SELECT COUNT(*) FROM jobs WHERE id = 41 AND function_id = 7"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM job_logs WHERE job_id = 41"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM function_versions WHERE function_id = 7"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM executions WHERE flow_id = 3"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM execution_events"), 1);
        assert_eq!(count("PRAGMA foreign_keys"), 1, "foreign keys are back on");
        // Deleting the function cascades as before, and its job ids are not handed out again.
        conn.execute("DELETE FROM functions WHERE id = 7", []).expect("deletes");
        assert_eq!(count("SELECT COUNT(*) FROM jobs"), 0);
        assert_eq!(count("SELECT COUNT(*) FROM job_logs"), 0);
        conn.execute("INSERT INTO functions (app_key, name, plan, sync_timeout_ms, async_timeout_ms, version, created_at, updated_at) VALUES (1, 'again', 'P_FREE', 1, 1, 1, 1, 1)", []).expect("function");
        let function = conn.last_insert_rowid();
        assert!(function > 7, "function ids are not reused: {function}");
        conn.execute(
            "INSERT INTO jobs (app_key, function_id, version, module_sha256, memory_limit, source, service_type, status, \
             input, timeout_ms, created_at) VALUES (1, ?1, 1, 'sha', 1, 'open_api', 'batch', 'waiting', '{}', 1, 1)",
            [function],
        )
        .expect("job");
        assert!(conn.last_insert_rowid() > 41, "job ids are not reused");
        migrate(&mut conn).expect("a second run changes nothing");
    }
}
