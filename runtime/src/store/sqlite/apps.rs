//! Apps, tokens and modules.

use rusqlite::{Connection, OptionalExtension, params};

use super::{db_error, now_us};
use crate::store::{App, StoreError, TokenGrant};

pub(super) fn create_app(conn: &Connection, name: &str) -> Result<App, StoreError> {
    let created_at = now_us();
    conn.execute("INSERT INTO apps (name, created_at) VALUES (?1, ?2)", params![name, created_at]).map_err(db_error)?;
    Ok(App { app_key: conn.last_insert_rowid(), name: name.to_string(), created_at })
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

pub(super) fn insert_token(conn: &Connection, hash: &str, grant: TokenGrant) -> Result<(), StoreError> {
    let (app_key, admin) = match grant {
        TokenGrant::Admin => (None, 1),
        TokenGrant::App(key) => (Some(key), 0),
    };
    conn.execute(
        "INSERT INTO tokens (token_hash, app_key, is_admin, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (token_hash) DO NOTHING",
        params![hash, app_key, admin, now_us()],
    )
    .map_err(db_error)?;
    Ok(())
}

pub(super) fn find_token(conn: &Connection, hash: &str) -> rusqlite::Result<Option<TokenGrant>> {
    let row: Option<(Option<i64>, i64)> = conn
        .query_row("SELECT app_key, is_admin FROM tokens WHERE token_hash = ?1", [hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(app_key, admin)| if admin != 0 { Some(TokenGrant::Admin) } else { app_key.map(TokenGrant::App) }))
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
