//! Flow executions and their history events.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value as Json;

use super::db_error;
use super::flows::constraint;
use super::rows::decoded;
use crate::{ExecStatus, ExecutionEvent, ExecutionRecord, ExecutionUpdate, PageRequest, StateDoc, StoreError};
use cloudexec_engine::clock::now_us;

/// Columns of [`execution`], in order.
const EXECUTION_COLUMNS: &str = "id, app_key, flow_id, flow_name, flow_version, name, status, input, output, error, \
     callback_url, state, created_at, finished_at, deadline_at, owner";

/// Stored JSON is written by us; text that does not parse fails the read.
fn json(r: &Row<'_>, index: usize) -> rusqlite::Result<Json> {
    let text: String = r.get(index)?;
    parse(index, &text)
}

fn optional_json(r: &Row<'_>, index: usize) -> rusqlite::Result<Option<Json>> {
    let text: Option<String> = r.get(index)?;
    text.map(|t| parse(index, &t)).transpose()
}

fn parse(index: usize, text: &str) -> rusqlite::Result<Json> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e)))
}

fn execution(r: &Row<'_>) -> rusqlite::Result<ExecutionRecord> {
    Ok(ExecutionRecord {
        id: r.get(0)?,
        app_key: r.get(1)?,
        flow_id: r.get(2)?,
        flow_name: r.get(3)?,
        flow_version: r.get(4)?,
        name: r.get(5)?,
        status: decoded(r, 6, "execution status", |name: &String| ExecStatus::parse(name))?,
        input: json(r, 7)?,
        output: optional_json(r, 8)?,
        error: optional_json(r, 9)?,
        callback_url: r.get(10)?,
        state: StateDoc { head: r.get(11)?, parts: Vec::new() },
        created_at: r.get(12)?,
        finished_at: r.get(13)?,
        deadline_at: r.get(14)?,
        owner: r.get(15)?,
    })
}

fn event(r: &Row<'_>) -> rusqlite::Result<ExecutionEvent> {
    Ok(ExecutionEvent { seq: r.get(0)?, at: r.get(1)?, kind: r.get(2)?, node: r.get(3)?, detail: json(r, 4)? })
}

/// Appends history events with one cached statement; a `seq` already used fails the write.
fn insert_events(conn: &Connection, id: &str, events: &[ExecutionEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO execution_events (execution_id, seq, at, kind, node, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db_error)?;
    for e in events {
        stmt.execute(params![id, e.seq, e.at, e.kind, e.node, e.detail.to_string()]).map_err(|err| {
            constraint(err, "Event", || format!("event {} of execution {id:?}", e.seq), &format!("execution {id:?}"))
        })?;
    }
    Ok(())
}

/// Inserts the execution (only if its flow belongs to its app) and its first events.
pub(super) fn create(conn: &Connection, x: &ExecutionRecord, events: &[ExecutionEvent]) -> Result<(), StoreError> {
    let taken = || format!("execution {:?}", x.name.as_deref().unwrap_or(&x.id));
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO executions ({EXECUTION_COLUMNS}, updated_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?13
             FROM flows WHERE id = ?3 AND app_key = ?2"
        ))
        .and_then(|mut stmt| {
            stmt.execute(params![
                x.id,
                x.app_key,
                x.flow_id,
                x.flow_name,
                x.flow_version,
                x.name,
                x.status.as_str(),
                x.input.to_string(),
                x.output.as_ref().map(Json::to_string),
                x.error.as_ref().map(Json::to_string),
                x.callback_url,
                x.state.head,
                x.created_at,
                x.finished_at,
                x.deadline_at,
                x.owner,
            ])
        })
        .map_err(|e| constraint(e, "Execution", taken, &format!("flow {}", x.flow_id)))?;
    if inserted == 0 {
        return Err(StoreError::NotFound(format!("flow {}", x.flow_id)));
    }
    write_parts(conn, &x.id, &x.state.parts)?;
    insert_events(conn, &x.id, events)
}

/// One transition: the row and the events in the same savepoint, so both or neither land.
pub(super) fn save(conn: &Connection, u: &ExecutionUpdate, events: &[ExecutionEvent]) -> Result<(), StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE executions SET status = ?1, state = ?2, output = ?3, error = ?4, finished_at = ?5, updated_at = ?6
             WHERE id = ?7 AND owner IS ?8",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                u.status.as_str(),
                u.state.head,
                u.output.as_ref().map(Json::to_string),
                u.error.as_ref().map(Json::to_string),
                u.finished_at,
                now_us(),
                u.id,
                u.owner,
            ])
        })
        .map_err(db_error)?;
    if changed == 0 {
        let exists = conn
            .prepare_cached("SELECT 1 FROM executions WHERE id = ?1")
            .and_then(|mut stmt| stmt.exists([&u.id]))
            .map_err(db_error)?;
        let what = format!("execution {:?}", u.id);
        return Err(if exists { StoreError::LeaseLost(what) } else { StoreError::NotFound(what) });
    }
    write_parts(conn, &u.id, &u.state.parts)?;
    insert_events(conn, &u.id, events)?;
    for (job, outcome) in &u.jobs {
        super::jobs::insert_finished(conn, job, outcome)?;
    }
    Ok(())
}

/// Replaces the state parts a write carries; the others stay.
fn write_parts(conn: &Connection, id: &str, parts: &[(String, String)]) -> Result<(), StoreError> {
    if parts.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO execution_parts (execution_id, part, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (execution_id, part) DO UPDATE SET body = excluded.body",
        )
        .map_err(db_error)?;
    for (part, body) in parts {
        stmt.execute(params![id, part, body]).map_err(db_error)?;
    }
    Ok(())
}

/// Fills in a record's state parts (a record read whole; lists carry the head only).
fn with_parts(conn: &Connection, mut record: ExecutionRecord) -> rusqlite::Result<ExecutionRecord> {
    let mut stmt =
        conn.prepare_cached("SELECT part, body FROM execution_parts WHERE execution_id = ?1 ORDER BY part")?;
    record.state.parts =
        stmt.query_map([&record.id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(record)
}

pub(super) fn get(conn: &Connection, app_key: i64, id: &str) -> rusqlite::Result<Option<ExecutionRecord>> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE app_key = ?1 AND id = ?2");
    let record = conn.prepare_cached(&sql)?.query_row(params![app_key, id], execution).optional()?;
    record.map(|r| with_parts(conn, r)).transpose()
}

pub(super) fn get_by_name(conn: &Connection, flow_id: i64, name: &str) -> rusqlite::Result<Option<ExecutionRecord>> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE flow_id = ?1 AND name = ?2");
    let record = conn.prepare_cached(&sql)?.query_row(params![flow_id, name], execution).optional()?;
    record.map(|r| with_parts(conn, r)).transpose()
}

/// A page of a flow's executions, newest first, and the total.
pub(super) fn list(
    conn: &Connection,
    flow_id: i64,
    page: PageRequest,
) -> rusqlite::Result<(Vec<ExecutionRecord>, i64)> {
    let total = conn
        .prepare_cached("SELECT COUNT(*) FROM executions WHERE flow_id = ?1")?
        .query_row([flow_id], |r| r.get(0))?;
    let sql = format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions WHERE flow_id = ?1
         ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![flow_id, page.limit.max(0), page.offset.max(0)], execution)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

/// Up to `limit` events with `seq > after`, in order.
pub(super) fn events(conn: &Connection, id: &str, after: i64, limit: i64) -> rusqlite::Result<Vec<ExecutionEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, at, kind, node, detail FROM execution_events
         WHERE execution_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![id, after, limit.max(0)], event)?;
    rows.collect()
}

/// Makes `node` the owner of the unfinished executions it may take (see
/// `Store::claim_executions`), and returns them whole, oldest first.
pub(super) fn claim(
    conn: &Connection,
    node: &str,
    stale_before: i64,
    own: bool,
) -> Result<Vec<ExecutionRecord>, StoreError> {
    let sql = format!(
        "UPDATE executions SET owner = ?1 WHERE status IN ('Starting', 'Running')
           AND (owner IS NULL OR (?3 AND owner = ?1) OR (owner <> ?1 AND NOT EXISTS
               (SELECT 1 FROM nodes n WHERE n.id = executions.owner AND n.heartbeat_at >= ?2)))
         RETURNING {EXECUTION_COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let mut rows: Vec<ExecutionRecord> =
        stmt.query_map(params![node, stale_before, own], execution).and_then(Iterator::collect).map_err(db_error)?;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    rows.into_iter().map(|r| with_parts(conn, r).map_err(db_error)).collect()
}
