//! Lists of a function's versions and of an app's bins, live instances and services, for the console and the API,
//! newest first and paged where they can grow large.

use rusqlite::{Connection, params};

use super::bins::{BIN_COLUMNS, INSTANCE_COLUMNS, SERVICE_COLUMNS, bin, instance, service};
use crate::{BinRecord, FunctionVersion, InstanceRecord, PageRequest, ServiceRecord};

pub(super) fn list_bins(conn: &Connection, app_key: i64, page: PageRequest) -> rusqlite::Result<(Vec<BinRecord>, i64)> {
    let sql =
        format!("SELECT {BIN_COLUMNS} FROM bins WHERE app_key = ?1 ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3");
    let items: rusqlite::Result<Vec<_>> =
        conn.prepare_cached(&sql)?.query_map(params![app_key, page.limit, page.offset], bin)?.collect();
    let total = conn.query_row("SELECT COUNT(*) FROM bins WHERE app_key = ?1", [app_key], |r| r.get(0))?;
    Ok((items?, total))
}

pub(super) fn list_instances(
    conn: &Connection,
    app_key: i64,
    bin_id: Option<&str>,
    page: PageRequest,
) -> rusqlite::Result<(Vec<InstanceRecord>, i64)> {
    let filter = "app_key = ?1 AND status <> 'destroyed' AND (?2 IS NULL OR bin_id = ?2)";
    let sql = format!(
        "SELECT {INSTANCE_COLUMNS} FROM instances WHERE {filter} ORDER BY created_at DESC, id LIMIT ?3 OFFSET ?4"
    );
    let items: rusqlite::Result<Vec<_>> =
        conn.prepare_cached(&sql)?.query_map(params![app_key, bin_id, page.limit, page.offset], instance)?.collect();
    let count = format!("SELECT COUNT(*) FROM instances WHERE {filter}");
    let total = conn.prepare_cached(&count)?.query_row(params![app_key, bin_id], |r| r.get(0))?;
    Ok((items?, total))
}

pub(super) fn list_services(conn: &Connection, app_key: i64) -> rusqlite::Result<Vec<ServiceRecord>> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services WHERE app_key = ?1 ORDER BY alias");
    conn.prepare_cached(&sql)?.query_map([app_key], service)?.collect()
}

pub(super) fn list_function_versions(conn: &Connection, function_id: i64) -> rusqlite::Result<Vec<FunctionVersion>> {
    conn.prepare_cached(
        "SELECT version, module_sha256, created_at FROM function_versions WHERE function_id = ?1 ORDER BY version DESC",
    )?
    .query_map([function_id], |r| {
        Ok(FunctionVersion { version: r.get(0)?, module_sha256: r.get(1)?, created_at: r.get(2)? })
    })?
    .collect()
}
