//! Functions and their versions.

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use super::db_error;
use super::rows::{FUNCTION_COLUMNS, FUNCTION_FROM, function};
use crate::{FunctionRecord, FunctionUpdate, NewFunction, PageRequest, StoreError};

fn conflict(name: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => {
            StoreError::AlreadyExists { kind: "Function", what: format!("function {name:?}") }
        }
        _ => db_error(e),
    }
}

pub(super) fn create(conn: &Connection, new: &NewFunction) -> Result<FunctionRecord, StoreError> {
    conn.execute(
        "INSERT INTO functions (app_key, name, remark, plan, sync_timeout_ms, async_timeout_ms, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
        params![new.app_key, new.name, new.remark, new.plan.name(), new.sync_timeout_ms, new.async_timeout_ms, new.now],
    )
    .map_err(conflict(&new.name))?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO function_versions (function_id, version, module_sha256, created_at) VALUES (?1, 1, ?2, ?3)",
        params![id, new.module_sha256, new.now],
    )
    .map_err(db_error)?;
    get(conn, new.app_key, &new.name).map_err(db_error)?.ok_or_else(|| db_error("function vanished after insert"))
}

pub(super) fn get(conn: &Connection, app_key: i64, name: &str) -> rusqlite::Result<Option<FunctionRecord>> {
    let sql = format!("SELECT {FUNCTION_COLUMNS} FROM {FUNCTION_FROM} WHERE f.app_key = ?1 AND f.name = ?2");
    conn.prepare_cached(&sql)?.query_row(params![app_key, name], function).optional()
}

pub(super) fn list(conn: &Connection, app_key: i64, page: PageRequest) -> rusqlite::Result<(Vec<FunctionRecord>, i64)> {
    let total = conn.query_row("SELECT COUNT(*) FROM functions WHERE app_key = ?1", [app_key], |r| r.get(0))?;
    let sql = format!(
        "SELECT {FUNCTION_COLUMNS} FROM {FUNCTION_FROM} WHERE f.app_key = ?1 ORDER BY f.name LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![app_key, page.limit, page.offset], function)?.collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

pub(super) fn update(
    conn: &Connection,
    app_key: i64,
    name: &str,
    update: &FunctionUpdate,
) -> Result<FunctionRecord, StoreError> {
    let current = get(conn, app_key, name)
        .map_err(db_error)?
        .ok_or_else(|| StoreError::NotFound(format!("function {name:?}")))?;
    let new_name = update.name.as_deref().unwrap_or(name);
    let code_changed = update.module_sha256.as_ref().is_some_and(|sha| *sha != current.module_sha256);
    let version = if code_changed { current.version + 1 } else { current.version };
    conn.execute(
        "UPDATE functions SET name = ?1, remark = ?2, plan = ?3, sync_timeout_ms = ?4, async_timeout_ms = ?5,
             version = ?6, updated_at = ?7 WHERE id = ?8",
        params![
            new_name,
            update.remark.as_deref().unwrap_or(&current.remark),
            update.plan.unwrap_or(current.plan).name(),
            update.sync_timeout_ms.unwrap_or(current.sync_timeout_ms),
            update.async_timeout_ms.unwrap_or(current.async_timeout_ms),
            version,
            update.now,
            current.id,
        ],
    )
    .map_err(conflict(new_name))?;
    if let (true, Some(sha)) = (code_changed, &update.module_sha256) {
        conn.execute(
            "INSERT INTO function_versions (function_id, version, module_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![current.id, version, sha, update.now],
        )
        .map_err(db_error)?;
    }
    get(conn, app_key, new_name).map_err(db_error)?.ok_or_else(|| db_error("function vanished after update"))
}

pub(super) fn delete(conn: &Connection, app_key: i64, name: &str) -> Result<bool, StoreError> {
    let deleted = conn
        .execute("DELETE FROM functions WHERE app_key = ?1 AND name = ?2", params![app_key, name])
        .map_err(db_error)?;
    Ok(deleted > 0)
}
