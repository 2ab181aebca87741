//! Apps, tokens and modules.

use rusqlite::{Connection, OptionalExtension, params};

use super::db_error;
use crate::{App, StoreError, TokenGrant, TokenInfo, TokenOrigin, TokenRole};
use cloudexec_engine::clock::now_us;

pub(super) fn create_app(conn: &Connection, name: &str) -> Result<App, StoreError> {
    let created_at = now_us();
    conn.execute("INSERT INTO apps (name, created_at) VALUES (?1, ?2)", params![name, created_at]).map_err(db_error)?;
    Ok(App { app_key: conn.last_insert_rowid(), name: name.to_string(), created_at })
}

/// The first app, or a new one named `name` (one write transaction: nothing else runs in
/// between, also when other processes write the same file).
pub(super) fn first_app(conn: &Connection, name: &str) -> Result<App, StoreError> {
    match list_apps(conn).map_err(db_error)?.into_iter().next() {
        Some(app) => Ok(app),
        None => create_app(conn, name),
    }
}

pub(super) fn list_apps(conn: &Connection) -> rusqlite::Result<Vec<App>> {
    let mut stmt = conn.prepare_cached("SELECT app_key, name, created_at FROM apps ORDER BY app_key")?;
    let rows = stmt.query_map([], |r| Ok(App { app_key: r.get(0)?, name: r.get(1)?, created_at: r.get(2)? }))?;
    rows.collect()
}

pub(super) fn get_app(conn: &Connection, app_key: i64) -> rusqlite::Result<Option<App>> {
    conn.query_row("SELECT app_key, name, created_at FROM apps WHERE app_key = ?1", [app_key], |r| {
        Ok(App { app_key: r.get(0)?, name: r.get(1)?, created_at: r.get(2)? })
    })
    .optional()
}

/// `(app_key, is_admin, role)` columns of a grant.
fn columns(grant: TokenGrant) -> (Option<i64>, i64, &'static str) {
    let role = grant.role().unwrap_or_default().as_str();
    (grant.app_key(), i64::from(grant == TokenGrant::Admin), role)
}

pub(super) fn insert_token(conn: &Connection, hash: &str, grant: TokenGrant) -> Result<i64, StoreError> {
    let (app_key, admin, role) = columns(grant);
    conn.execute(
        "INSERT INTO tokens (token_hash, app_key, is_admin, origin, created_at, role) VALUES (?1, ?2, ?3, 'issued', ?4, ?5)",
        params![hash, app_key, admin, now_us(), role],
    )
    .map_err(db_error)?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn replace_start_token(
    conn: &Connection,
    hash: &str,
    grant: TokenGrant,
    node: &str,
) -> Result<Vec<String>, StoreError> {
    if let Some(existing) = find_token(conn, hash).map_err(db_error)?
        && existing != grant
    {
        return Err(StoreError::AlreadyExists { kind: "Token", what: "a token that grants something else".into() });
    }
    let (app_key, admin, role) = columns(grant);
    // This node's previous start token of the grant (or one from before start tokens
    // had nodes) is revoked; other nodes' stay.
    let same_grant = "origin = 'start' AND is_admin = ?1 AND app_key IS ?2 AND token_hash <> ?3
                      AND (node = ?4 OR node IS NULL)";
    let mut stmt = conn.prepare(&format!("SELECT token_hash FROM tokens WHERE {same_grant}")).map_err(db_error)?;
    let revoked = stmt
        .query_map(params![admin, app_key, hash, node], |r| r.get(0))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<String>>>)
        .map_err(db_error)?;
    conn.execute(&format!("DELETE FROM tokens WHERE {same_grant}"), params![admin, app_key, hash, node])
        .map_err(db_error)?;
    conn.execute(
        "INSERT INTO tokens (token_hash, app_key, is_admin, origin, created_at, node, role)
         VALUES (?1, ?2, ?3, 'start', ?4, ?5, ?6)
         ON CONFLICT (token_hash) DO UPDATE SET origin = 'start', node = excluded.node",
        params![hash, app_key, admin, now_us(), node, role],
    )
    .map_err(db_error)?;
    Ok(revoked)
}

pub(super) fn list_tokens(conn: &Connection, app_key: i64) -> rusqlite::Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, origin, created_at, role FROM tokens WHERE app_key = ?1 AND is_admin = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([app_key], |r| {
        let origin: String = r.get(1)?;
        let role: String = r.get(3)?;
        Ok(TokenInfo {
            id: r.get(0)?,
            app_key: Some(app_key),
            origin: if origin == "start" { TokenOrigin::Start } else { TokenOrigin::Issued },
            role: TokenRole::parse(&role).unwrap_or_default(),
            created_at: r.get(2)?,
        })
    })?;
    rows.collect()
}

pub(super) fn delete_token(conn: &Connection, app_key: i64, id: i64) -> Result<Option<String>, StoreError> {
    conn.query_row(
        "DELETE FROM tokens WHERE id = ?1 AND app_key = ?2 AND is_admin = 0 RETURNING token_hash",
        params![id, app_key],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_error)
}

pub(super) fn find_token(conn: &Connection, hash: &str) -> rusqlite::Result<Option<TokenGrant>> {
    let row: Option<(Option<i64>, i64, String)> = conn
        .query_row("SELECT app_key, is_admin, role FROM tokens WHERE token_hash = ?1", [hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    Ok(row.and_then(|(app_key, admin, role)| TokenGrant::from_columns(app_key, admin != 0, &role)))
}

pub(super) fn server_secret(conn: &Connection, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
    conn.execute(
        "INSERT INTO server_secrets (name, value, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
        params![name, fresh, now_us()],
    )
    .map_err(db_error)?;
    conn.query_row("SELECT value FROM server_secrets WHERE name = ?1", [name], |r| r.get(0)).map_err(db_error)
}

pub(super) fn set_limits(conn: &Connection, app_key: i64, limits: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO app_limits (app_key, limits) VALUES (?1, ?2) ON CONFLICT (app_key) DO UPDATE SET limits = ?2",
        params![app_key, limits],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn all_limits(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT app_key, limits FROM app_limits ORDER BY app_key")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

pub(super) fn put_module(conn: &Connection, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO modules (sha256, bytes, size, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sha256) DO NOTHING",
        params![sha256, bytes, bytes.len() as i64, now_us()],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn get_module(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row("SELECT bytes FROM modules WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()
}
