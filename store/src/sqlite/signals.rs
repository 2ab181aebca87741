//! Signals for the node that drives an execution (a finish callback or a stop that
//! reached another node), and their outcomes.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value as Json;

use super::db_error;
use crate::{ExecutionSignal, SignalKind, StoreError};

/// How long a settled signal's outcome waits for its reader before it is dropped (µs).
const OUTCOME_KEPT_US: i64 = 600_000_000;

fn signal(r: &Row<'_>) -> rusqlite::Result<ExecutionSignal> {
    let kind: String = r.get(2)?;
    let body: String = r.get(4)?;
    let bad = |index, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e)
    };
    Ok(ExecutionSignal {
        id: r.get(0)?,
        execution_id: r.get(1)?,
        kind: SignalKind::parse(&kind).ok_or_else(|| bad(2, format!("unknown signal kind {kind:?}").into()))?,
        task: r.get(3)?,
        body: serde_json::from_str(&body).map_err(|e| bad(4, Box::new(e)))?,
        created_at: r.get(5)?,
    })
}

/// Stores the signal if its execution is still running.
pub(super) fn add(conn: &Connection, s: &ExecutionSignal) -> Result<i64, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO execution_signals (execution_id, kind, task, body, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5 FROM executions WHERE id = ?1 AND status IN ('Starting', 'Running')",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![s.execution_id, s.kind.as_str(), s.task, s.body.to_string(), s.created_at])
        })
        .map_err(db_error)?;
    if inserted == 0 {
        return Err(StoreError::NotFound(format!("running execution {:?}", s.execution_id)));
    }
    Ok(conn.last_insert_rowid())
}

pub(super) fn open(conn: &Connection, node: &str) -> rusqlite::Result<Vec<ExecutionSignal>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.execution_id, s.kind, s.task, s.body, s.created_at
         FROM execution_signals s JOIN executions e ON e.id = s.execution_id
         WHERE s.outcome IS NULL AND e.owner = ?1 ORDER BY s.id LIMIT 100",
    )?;
    stmt.query_map([node], signal)?.collect()
}

pub(super) fn settle(conn: &Connection, id: i64, outcome: &Json, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE execution_signals SET outcome = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id, outcome.to_string()]))
        .map_err(db_error)?;
    conn.prepare_cached("DELETE FROM execution_signals WHERE outcome IS NOT NULL AND created_at < ?1")
        .and_then(|mut stmt| stmt.execute([now - OUTCOME_KEPT_US]))
        .map_err(db_error)?;
    Ok(())
}

pub(super) fn take_outcome(conn: &Connection, id: i64) -> Result<Option<Json>, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("DELETE FROM execution_signals WHERE id = ?1 AND outcome IS NOT NULL RETURNING outcome")
        .and_then(|mut stmt| stmt.query_row([id], |r| r.get(0)).optional())
        .map_err(db_error)?;
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| StoreError::Database(format!("a stored signal outcome does not parse: {e}")))
    })
    .transpose()
}
