//! Bins, execution instances and function-key bindings.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db_error;
use super::rows::decoded;
use crate::{
    BinRecord, Binding, BindingTarget, InstanceRecord, InstanceStatus, ServiceCategory, ServiceRecord, StoreError,
};
use cloudexec_engine::clock::now_us;

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(db_error)
}

fn from_json<T: serde::de::DeserializeOwned>(index: usize, text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e)))
}

pub(super) fn create_bin(conn: &Connection, bin: &BinRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO bins (id, app_key, module_sha256, manifest, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![bin.id, bin.app_key, bin.module_sha256, to_json(&bin.manifest)?, bin.created_at],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) const BIN_COLUMNS: &str = "id, app_key, module_sha256, manifest, created_at";

pub(super) fn bin(r: &Row<'_>) -> rusqlite::Result<BinRecord> {
    let manifest: String = r.get(3)?;
    Ok(BinRecord {
        id: r.get(0)?,
        app_key: r.get(1)?,
        module_sha256: r.get(2)?,
        manifest: from_json(3, &manifest)?,
        created_at: r.get(4)?,
    })
}

pub(super) fn get_bin(conn: &Connection, app_key: i64, id: &str) -> rusqlite::Result<Option<BinRecord>> {
    let sql = format!("SELECT {BIN_COLUMNS} FROM bins WHERE app_key = ?1 AND id = ?2");
    conn.query_row(&sql, params![app_key, id], bin).optional()
}

pub(super) const INSTANCE_COLUMNS: &str =
    "id, app_key, bin_id, status, state, runs, last_error, created_at, updated_at, service";

pub(super) fn instance(r: &Row<'_>) -> rusqlite::Result<InstanceRecord> {
    let state: String = r.get(4)?;
    Ok(InstanceRecord {
        id: r.get(0)?,
        app_key: r.get(1)?,
        bin_id: r.get(2)?,
        status: decoded(r, 3, "instance status", |name: &String| InstanceStatus::parse(name))?,
        state: from_json(4, &state)?,
        runs: r.get(5)?,
        last_error: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        service: r.get(9)?,
    })
}

pub(super) fn create_instance(conn: &Connection, i: &InstanceRecord) -> Result<(), StoreError> {
    conn.execute(
        &format!("INSERT INTO instances ({INSTANCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            i.id,
            i.app_key,
            i.bin_id,
            i.status.as_str(),
            to_json(&i.state)?,
            i.runs,
            i.last_error,
            i.created_at,
            i.updated_at,
            i.service,
        ],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn get_instance(conn: &Connection, app_key: i64, id: &str) -> rusqlite::Result<Option<InstanceRecord>> {
    let sql =
        format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE app_key = ?1 AND id = ?2 AND status <> 'destroyed'");
    conn.prepare_cached(&sql)?.query_row(params![app_key, id], instance).optional()
}

/// Commits a run: only if the instance is live and no other run committed since `runs`.
pub(super) fn commit_run(conn: &Connection, i: &InstanceRecord) -> Result<bool, StoreError> {
    let state = to_json(&i.state)?;
    let changed = conn
        .prepare_cached(
            "UPDATE instances SET status = ?1, state = ?2, runs = ?3 + 1, last_error = ?4, updated_at = ?5
             WHERE app_key = ?6 AND id = ?7 AND runs = ?3 AND status <> 'destroyed'",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![i.status.as_str(), state, i.runs, i.last_error, now_us(), i.app_key, i.id])
        })
        .map_err(db_error)?;
    Ok(changed == 1)
}

pub(super) fn destroy_instance(conn: &Connection, app_key: i64, id: &str) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE instances SET status = 'destroyed', updated_at = ?1 WHERE app_key = ?2 AND id = ?3 AND status <> 'destroyed'",
            params![now_us(), app_key, id],
        )
        .map_err(db_error)?;
    Ok(changed == 1)
}

pub(super) fn put_binding(conn: &Connection, app_key: i64, binding: &Binding) -> Result<(), StoreError> {
    let (name, url) = match &binding.target {
        BindingTarget::Function(name) => (Some(name.as_str()), None),
        BindingTarget::Url(url) => (None, Some(url.as_str())),
    };
    conn.execute(
        "INSERT INTO function_bindings (app_key, function_key, function_name, url, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (app_key, function_key) DO UPDATE SET function_name = ?3, url = ?4, updated_at = ?5",
        params![app_key, binding.function_key, name, url, now_us()],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn list_bindings(conn: &Connection, app_key: i64) -> rusqlite::Result<Vec<Binding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT function_key, function_name, url FROM function_bindings WHERE app_key = ?1 ORDER BY function_key",
    )?;
    let rows = stmt.query_map([app_key], |r| {
        let (key, name, url): (String, Option<String>, Option<String>) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let target = match (name, url) {
            (Some(name), _) => BindingTarget::Function(name),
            (None, url) => BindingTarget::Url(url.unwrap_or_default()),
        };
        Ok(Binding { function_key: key, target })
    })?;
    rows.collect()
}

/// Publishes `service`: a new alias, or one whose earlier service was revoked.
pub(super) fn publish(conn: &Connection, service: &ServiceRecord) -> Result<bool, StoreError> {
    let now = now_us();
    let changed = conn
        .execute(
            "INSERT INTO services (app_key, alias, category, bin_id, revoked, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)
             ON CONFLICT (app_key, alias) DO UPDATE SET category = ?3, bin_id = ?4, revoked = 0, updated_at = ?5
             WHERE services.revoked = 1",
            params![service.app_key, service.alias, service.category.code(), service.bin_id, now],
        )
        .map_err(db_error)?;
    Ok(changed == 1)
}

pub(super) fn revoke(conn: &Connection, app_key: i64, alias: &str, category: i64) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE services SET revoked = 1, updated_at = ?1 WHERE app_key = ?2 AND alias = ?3 AND category = ?4 AND revoked = 0",
            params![now_us(), app_key, alias, category],
        )
        .map_err(db_error)?;
    Ok(changed == 1)
}

pub(super) const SERVICE_COLUMNS: &str = "app_key, alias, category, bin_id, revoked";

pub(super) fn service(r: &Row<'_>) -> rusqlite::Result<ServiceRecord> {
    Ok(ServiceRecord {
        app_key: r.get(0)?,
        alias: r.get(1)?,
        category: decoded(r, 2, "service category", |code: &i64| ServiceCategory::from_code(*code))?,
        bin_id: r.get(3)?,
        revoked: r.get::<_, i64>(4)? != 0,
    })
}

pub(super) fn get_service(conn: &Connection, app_key: i64, alias: &str) -> rusqlite::Result<Option<ServiceRecord>> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services WHERE app_key = ?1 AND alias = ?2");
    conn.query_row(&sql, params![app_key, alias], service).optional()
}
