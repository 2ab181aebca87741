//! Jobs and their logs.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value as Json;

use super::db_error;
use super::rows::{JOB_COLUMNS, job};
use crate::{JobEnd, JobFilter, JobOutcome, JobRecord, JobStatus, NewJob, PageRequest, ServiceType, StoreError};

/// Records a waiting async job: no outcome yet.
pub(super) fn insert_waiting(conn: &Connection, job: &NewJob) -> Result<i64, StoreError> {
    insert(conn, job, None)
}

/// One INSERT of the whole record (the hot path of every sync call) plus its log.
pub(super) fn insert_finished(conn: &Connection, job: &NewJob, outcome: &JobOutcome) -> Result<i64, StoreError> {
    let id = insert(conn, job, Some(outcome))?;
    insert_log(conn, id, &outcome.log)?;
    Ok(id)
}

/// Inserts a job row: `waiting` without an outcome, or finished with it.
fn insert(conn: &Connection, job: &NewJob, outcome: Option<&JobOutcome>) -> Result<i64, StoreError> {
    let end = outcome.map(|o| &o.end);
    let status = end.map_or(JobStatus::Waiting, JobEnd::status);
    let failure = end.and_then(JobEnd::failure);
    conn.prepare_cached(
        "INSERT INTO jobs (app_key, function_id, version, source, service_type, status, input, timeout_ms, created_at,
             module_sha256, memory_limit, output, error_code, error_message, mem_usage, started_at, finished_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            job.app_key,
            job.function_id,
            job.version,
            job.source,
            job.service_type.as_str(),
            status.as_str(),
            job.input.to_string(),
            job.timeout_ms,
            job.created_at,
            job.module_sha256,
            job.memory_limit,
            end.and_then(|e| e.result.as_ref().ok()).map(Json::to_string),
            failure.map(|f| &f.code),
            failure.map(|f| &f.message),
            end.map_or(0, |e| e.mem_usage),
            end.map(|e| e.started_at),
            end.map(|e| e.finished_at),
        ])
    })
    .map_err(db_error)?;
    Ok(conn.last_insert_rowid())
}

/// Stores a job's log; an empty one is not stored (reads give an empty log either way),
/// which spares most flow tasks' writes a row and an index entry.
fn insert_log(conn: &Connection, id: i64, log: &str) -> Result<(), StoreError> {
    if log.is_empty() {
        return Ok(());
    }
    conn.prepare_cached("INSERT INTO job_logs (job_id, text) VALUES (?1, ?2) ON CONFLICT (job_id) DO NOTHING")
        .and_then(|mut stmt| stmt.execute(params![id, log]))
        .map_err(db_error)?;
    Ok(())
}

/// Writes the outcome only if the job is still executing for `node`, so it ends exactly
/// once (a node whose job was reclaimed from it does not overwrite the new run's end).
pub(super) fn finish(conn: &Connection, node: &str, id: i64, outcome: &JobOutcome) -> Result<(), StoreError> {
    let end = &outcome.end;
    let failure = end.failure();
    let changed = conn
        .prepare_cached(
            "UPDATE jobs SET status = ?1, output = ?2, error_code = ?3, error_message = ?4, mem_usage = ?5,
                 started_at = ?6, finished_at = ?7
             WHERE id = ?8 AND status = 'executing' AND claimed_by = ?9",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                end.status().as_str(),
                end.result.as_ref().ok().map(Json::to_string),
                failure.map(|f| &f.code),
                failure.map(|f| &f.message),
                end.mem_usage,
                end.started_at,
                end.finished_at,
                id,
                node,
            ])
        })
        .map_err(db_error)?;
    if changed > 0 {
        insert_log(conn, id, &outcome.log)?;
    }
    Ok(())
}

/// Records `node`'s heartbeat.
pub(super) fn heartbeat(conn: &Connection, node: &str, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES (?1, ?2, ?2)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
    )
    .and_then(|mut stmt| stmt.execute(params![node, now]))
    .map_err(db_error)?;
    Ok(())
}

/// `node`'s last heartbeat.
pub(super) fn node_heartbeat(conn: &Connection, node: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT heartbeat_at FROM nodes WHERE id = ?1", [node], |r| r.get(0)).optional()
}

/// Forgets `node`: its jobs left executing are reclaimable at once.
pub(super) fn remove_node(conn: &Connection, node: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM nodes WHERE id = ?1", [node]).map_err(db_error)?;
    Ok(())
}

pub(super) fn claim(
    conn: &Connection,
    node: &str,
    limit: usize,
    skip: &[i64],
    started_at: i64,
) -> Result<Vec<JobRecord>, StoreError> {
    // App keys are integers from the executor, never text from a request.
    let skipped = skip.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "UPDATE jobs SET status = 'executing', started_at = ?1, claimed_by = ?3 WHERE id IN
             (SELECT id FROM jobs WHERE status = 'waiting' AND app_key NOT IN ({skipped}) ORDER BY id LIMIT ?2)
         RETURNING {JOB_COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let mut jobs: Vec<JobRecord> =
        stmt.query_map(params![started_at, limit as i64, node], job).and_then(Iterator::collect).map_err(db_error)?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Jobs `node` left executing (or claimed before nodes were recorded) go back to waiting.
pub(super) fn requeue_own(conn: &Connection, node: &str) -> Result<u64, StoreError> {
    let n = conn
        .execute(
            "UPDATE jobs SET status = 'waiting', started_at = NULL, claimed_by = NULL, restarts = restarts + 1
             WHERE status = 'executing' AND (claimed_by = ?1 OR claimed_by IS NULL)",
            [node],
        )
        .map_err(db_error)?;
    Ok(n as u64)
}

/// Executing jobs of nodes without a heartbeat since `stale_before` (or gone) go back to
/// waiting. Jobs claimed before nodes were recorded (no `claimed_by`) are left to
/// [`requeue_own`] at a start.
pub(super) fn reclaim(conn: &Connection, stale_before: i64) -> Result<u64, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE jobs SET status = 'waiting', started_at = NULL, claimed_by = NULL, restarts = restarts + 1
             WHERE status = 'executing' AND claimed_by IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = jobs.claimed_by AND n.heartbeat_at >= ?1)",
        )
        .and_then(|mut stmt| stmt.execute([stale_before]))
        .map_err(db_error)?;
    Ok(n as u64)
}

pub(super) fn count_waiting(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM jobs WHERE status = 'waiting'", [], |r| r.get(0))
}

pub(super) fn get(conn: &Connection, app_key: i64, id: i64) -> rusqlite::Result<Option<JobRecord>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE app_key = ?1 AND id = ?2");
    conn.prepare_cached(&sql)?.query_row(params![app_key, id], job).optional()
}

pub(super) fn list(
    conn: &Connection,
    function_id: i64,
    filter: &JobFilter,
    page: PageRequest,
) -> rusqlite::Result<(Vec<JobRecord>, i64)> {
    let filters = "function_id = ?1 AND (?2 IS NULL OR source = ?2) AND (?3 IS NULL OR status = ?3)
                   AND (?4 IS NULL OR service_type = ?4)";
    let (status, kind) = (filter.status.map(JobStatus::as_str), filter.service_type.map(ServiceType::as_str));
    let args = params![function_id, filter.source, status, kind];
    let total =
        conn.prepare_cached(&format!("SELECT COUNT(*) FROM jobs WHERE {filters}"))?.query_row(args, |r| r.get(0))?;
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {filters} ORDER BY id DESC LIMIT ?5 OFFSET ?6");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![function_id, filter.source, status, kind, page.limit, page.offset], job)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

pub(super) fn log(conn: &Connection, app_key: i64, id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT l.text FROM job_logs l JOIN jobs j ON j.id = l.job_id WHERE j.app_key = ?1 AND j.id = ?2",
        params![app_key, id],
        |r| r.get(0),
    )
    .optional()
}
