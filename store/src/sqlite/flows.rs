//! Flows and their versions.

use rusqlite::{Connection, OptionalExtension, Row, ffi, params};

use super::db_error;
use crate::{FlowRecord, NewFlowVersion, PageRequest, StoreError};

/// Maps a failed write: a unique key taken → `AlreadyExists` of `kind` (`taken` says
/// which), a missing parent row (foreign key) → `NotFound(missing)`, else `Database`.
pub(super) fn constraint(
    e: rusqlite::Error,
    kind: &'static str,
    taken: impl FnOnce() -> String,
    missing: &str,
) -> StoreError {
    match e.sqlite_error().map(|f| f.extended_code) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
            StoreError::AlreadyExists { kind, what: taken() }
        }
        Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => StoreError::NotFound(missing.to_string()),
        _ => db_error(e),
    }
}

/// Columns of [`flow`], in order; join of `flows f` and `flow_versions v`.
const FLOW_COLUMNS: &str =
    "f.id, f.app_key, f.name, v.version, v.format, v.definition, v.description, f.created_at, v.created_at";

fn flow(r: &Row<'_>) -> rusqlite::Result<FlowRecord> {
    Ok(FlowRecord {
        id: r.get(0)?,
        app_key: r.get(1)?,
        name: r.get(2)?,
        version: r.get(3)?,
        format: r.get(4)?,
        definition: r.get(5)?,
        description: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn insert_version(conn: &Connection, flow_id: i64, version: i64, new: &NewFlowVersion) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO flow_versions (flow_id, version, format, definition, description, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| stmt.execute(params![flow_id, version, new.format, new.definition, new.description, new.at]))
    .map_err(db_error)?;
    Ok(())
}

/// Creates the flow row and its version 1.
pub(super) fn create(conn: &Connection, new: &NewFlowVersion) -> Result<FlowRecord, StoreError> {
    let missing = format!("app {}", new.app_key);
    conn.prepare_cached(
        "INSERT INTO flows (app_key, name, latest_version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)",
    )
    .and_then(|mut stmt| stmt.execute(params![new.app_key, new.name, new.at]))
    .map_err(|e| constraint(e, "Flow", || format!("flow {:?}", new.name), &missing))?;
    let id = conn.last_insert_rowid();
    insert_version(conn, id, 1, new)?;
    Ok(new.stored(id, 1, new.at))
}

/// Adds version `latest + 1` to an existing flow.
pub(super) fn add_version(conn: &Connection, new: &NewFlowVersion) -> Result<FlowRecord, StoreError> {
    let (id, version, created_at): (i64, i64, i64) = conn
        .prepare_cached(
            "UPDATE flows SET latest_version = latest_version + 1, updated_at = ?1 WHERE app_key = ?2 AND name = ?3
             RETURNING id, latest_version, created_at",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![new.at, new.app_key, new.name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
        })
        .map_err(db_error)?
        .ok_or_else(|| StoreError::NotFound(format!("flow {:?}", new.name)))?;
    insert_version(conn, id, version, new)?;
    Ok(new.stored(id, version, created_at))
}

/// The given version of a flow, or its latest.
pub(super) fn get(
    conn: &Connection,
    app_key: i64,
    name: &str,
    version: Option<i64>,
) -> rusqlite::Result<Option<FlowRecord>> {
    let sql = format!(
        "SELECT {FLOW_COLUMNS} FROM flows f
         JOIN flow_versions v ON v.flow_id = f.id AND v.version = COALESCE(?3, f.latest_version)
         WHERE f.app_key = ?1 AND f.name = ?2"
    );
    conn.prepare_cached(&sql)?.query_row(params![app_key, name, version], flow).optional()
}

/// A page of the app's flows at their latest versions, by name, and the total.
pub(super) fn list(conn: &Connection, app_key: i64, page: PageRequest) -> rusqlite::Result<(Vec<FlowRecord>, i64)> {
    let total =
        conn.prepare_cached("SELECT COUNT(*) FROM flows WHERE app_key = ?1")?.query_row([app_key], |r| r.get(0))?;
    let sql = format!(
        "SELECT {FLOW_COLUMNS} FROM flows f
         JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest_version
         WHERE f.app_key = ?1 ORDER BY f.name LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![app_key, page.limit.max(0), page.offset.max(0)], flow)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

/// Deletes a flow; its versions, executions and their events go with it (foreign keys).
pub(super) fn delete(conn: &Connection, app_key: i64, name: &str) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM flows WHERE app_key = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.execute(params![app_key, name]))
        .map_err(db_error)?;
    Ok(deleted > 0)
}
