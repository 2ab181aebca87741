//! Seed 000, 4.2 on SQLite: engine-layer URLs and the outbox of variable updates.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db_error;
use crate::{DeliveryEnd, DeliveryStatus, NewVarDelivery, StoreError, VarDelivery};
use cloudexec_engine::clock::now_us;

const COLUMNS: &str =
    "id, app_key, instance_id, variable_key, url, body, status, attempts, next_at, last_error, created_at";

fn delivery(row: &Row<'_>) -> rusqlite::Result<VarDelivery> {
    let status: String = row.get(6)?;
    Ok(VarDelivery {
        id: row.get(0)?,
        new: NewVarDelivery {
            app_key: row.get(1)?,
            instance_id: row.get(2)?,
            variable_key: row.get(3)?,
            url: row.get(4)?,
            body: row.get(5)?,
        },
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
        attempts: row.get(7)?,
        next_at: row.get(8)?,
        last_error: row.get(9)?,
        created_at: row.get(10)?,
    })
}

/// Queues `deliveries` (inside the run's commit).
pub(super) fn insert(conn: &Connection, deliveries: &[NewVarDelivery]) -> Result<(), StoreError> {
    let now = now_us();
    for d in deliveries {
        conn.prepare_cached(
            "INSERT INTO var_deliveries (app_key, instance_id, variable_key, url, body, status, next_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
        )
        .and_then(|mut stmt| stmt.execute(params![d.app_key, d.instance_id, d.variable_key, d.url, d.body, now]))
        .map_err(db_error)?;
    }
    Ok(())
}

pub(super) fn put_url(conn: &Connection, app_key: i64, url: Option<&str>) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO engine_layers (app_key, var_update_url, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (app_key) DO UPDATE SET var_update_url = excluded.var_update_url, updated_at = excluded.updated_at",
        params![app_key, url, now_us()],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn url(conn: &Connection, app_key: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT var_update_url FROM engine_layers WHERE app_key = ?1", [app_key], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

pub(super) fn claim(conn: &Connection, now: i64, lease_until: i64, limit: i64) -> Result<Vec<VarDelivery>, StoreError> {
    let sql = format!(
        "UPDATE var_deliveries SET next_at = ?2, attempts = attempts + 1
         WHERE id IN (SELECT d.id FROM var_deliveries d WHERE d.status = 'pending' AND d.next_at <= ?1
             AND NOT EXISTS (SELECT 1 FROM var_deliveries e WHERE e.app_key = d.app_key
                 AND e.instance_id = d.instance_id AND e.status = 'pending' AND e.id < d.id)
             ORDER BY d.id LIMIT ?3)
         RETURNING {COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
    let rows = stmt.query_map(params![now, lease_until, limit], delivery).map_err(db_error)?;
    let mut claimed = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_error)?;
    claimed.sort_by_key(|d| d.id);
    Ok(claimed)
}

pub(super) fn end(conn: &Connection, id: i64, end: &DeliveryEnd) -> Result<(), StoreError> {
    let (status, next_at, error) = match end {
        DeliveryEnd::Delivered => (DeliveryStatus::Delivered, None, None),
        DeliveryEnd::Retry { next_at, error } => (DeliveryStatus::Pending, Some(*next_at), Some(error.as_str())),
        DeliveryEnd::Failed { error } => (DeliveryStatus::Failed, None, Some(error.as_str())),
    };
    conn.execute(
        "UPDATE var_deliveries SET status = ?2, next_at = COALESCE(?3, next_at), last_error = COALESCE(?4, last_error)
         WHERE id = ?1",
        params![id, status.as_str(), next_at, error],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn list(
    conn: &Connection,
    app_key: i64,
    instance_id: &str,
    limit: i64,
) -> rusqlite::Result<Vec<VarDelivery>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM var_deliveries WHERE app_key = ?1 AND instance_id = ?2 ORDER BY id DESC LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![app_key, instance_id, limit], delivery)?;
    rows.collect()
}
