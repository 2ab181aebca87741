//! Apps' tokens and limits on PostgreSQL: the rules of `sqlite/apps.rs`.

use cloudexec_engine::clock::now_us;
use tokio_postgres::Row;

use super::PgStore;
use super::errors::db_error;
use super::listen::notify;
use crate::{App, Change, StoreError, StoreResult, TokenGrant, TokenInfo, TokenOrigin, TokenRole};

/// `(app_key, is_admin)` columns of a grant.
fn columns(grant: TokenGrant) -> (Option<i64>, bool, &'static str) {
    (grant.app_key(), grant == TokenGrant::Admin, grant.role().unwrap_or_default().as_str())
}

/// The grant of a row whose first columns are `app_key, is_admin, role`.
fn grant(row: &Row) -> StoreResult<Option<TokenGrant>> {
    let (app_key, admin): (Option<i64>, bool) = (row.try_get(0).map_err(db_error)?, row.try_get(1).map_err(db_error)?);
    let role: String = row.try_get(2).map_err(db_error)?;
    Ok(TokenGrant::from_columns(app_key, admin, &role))
}

impl PgStore {
    /// An app.
    pub async fn get_app(&self, app_key: i64) -> StoreResult<Option<App>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT app_key, name, created_at FROM apps WHERE app_key = $1", &[&app_key])
            .await
            .map_err(db_error)?;
        row.map(|r| {
            Ok(App {
                app_key: r.try_get(0).map_err(db_error)?,
                name: r.try_get(1).map_err(db_error)?,
                created_at: r.try_get(2).map_err(db_error)?,
            })
        })
        .transpose()
    }

    /// Stores an issued token's hash; returns its id.
    pub async fn insert_token(&self, token_hash: &str, grant: TokenGrant) -> StoreResult<i64> {
        let (app_key, admin, role) = columns(grant);
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO tokens (token_hash, app_key, is_admin, origin, created_at, role)
                 VALUES ($1, $2, $3, 'issued', $4, $5) RETURNING id",
                &[&token_hash, &app_key, &admin, &now_us(), &role],
            )
            .await
            .map_err(db_error)?;
        row.try_get(0).map_err(db_error)
    }

    /// Makes `token_hash` the start token of `grant`, revoking the previous one; returns
    /// the revoked hashes.
    pub async fn replace_start_token(
        &self,
        token_hash: &str,
        grant: TokenGrant,
        node: &str,
    ) -> StoreResult<Vec<String>> {
        let (app_key, admin, role) = columns(grant);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let existing = tx
            .query_opt("SELECT app_key, is_admin, role FROM tokens WHERE token_hash = $1", &[&token_hash])
            .await
            .map_err(db_error)?;
        if let Some(row) = existing
            && self::grant(&row)? != Some(grant)
        {
            return Err(StoreError::AlreadyExists { kind: "Token", what: "a token that grants something else".into() });
        }
        let rows = tx
            .query(
                "DELETE FROM tokens WHERE origin = 'start' AND is_admin = $1 AND app_key IS NOT DISTINCT FROM $2
                   AND token_hash <> $3 AND (node = $4 OR node IS NULL) RETURNING token_hash",
                &[&admin, &app_key, &token_hash, &node],
            )
            .await
            .map_err(db_error)?;
        let revoked = rows.iter().map(|r| r.try_get(0).map_err(db_error)).collect::<StoreResult<Vec<String>>>()?;
        for hash in &revoked {
            notify(&*tx, &Change::Token { hash: hash.clone() }).await?;
        }
        tx.execute(
            "INSERT INTO tokens (token_hash, app_key, is_admin, origin, created_at, node, role)
             VALUES ($1, $2, $3, 'start', $4, $5, $6)
             ON CONFLICT (token_hash) DO UPDATE SET origin = 'start', node = excluded.node",
            &[&token_hash, &app_key, &admin, &now_us(), &node, &role],
        )
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(revoked)
    }

    /// An app's tokens (never the admin's).
    pub async fn list_tokens(&self, app_key: i64) -> StoreResult<Vec<TokenInfo>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, origin, created_at, role FROM tokens WHERE app_key = $1 AND NOT is_admin ORDER BY id",
                &[&app_key],
            )
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                let origin: String = r.try_get(1).map_err(db_error)?;
                let role: String = r.try_get(3).map_err(db_error)?;
                Ok(TokenInfo {
                    id: r.try_get(0).map_err(db_error)?,
                    app_key: Some(app_key),
                    origin: if origin == "start" { TokenOrigin::Start } else { TokenOrigin::Issued },
                    role: TokenRole::parse(&role).unwrap_or_default(),
                    created_at: r.try_get(2).map_err(db_error)?,
                })
            })
            .collect()
    }

    /// Deletes an app's token; returns its hash.
    pub async fn delete_token(&self, app_key: i64, id: i64) -> StoreResult<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "DELETE FROM tokens WHERE id = $1 AND app_key = $2 AND NOT is_admin RETURNING token_hash",
                &[&id, &app_key],
            )
            .await
            .map_err(db_error)?;
        let hash: Option<String> = row.map(|r| r.try_get(0)).transpose().map_err(db_error)?;
        if let Some(hash) = &hash {
            notify(&**client, &Change::Token { hash: hash.clone() }).await?;
        }
        Ok(hash)
    }

    /// What a token hash grants.
    pub async fn find_token(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT app_key, is_admin, role FROM tokens WHERE token_hash = $1", &[&token_hash])
            .await
            .map_err(db_error)?;
        Ok(row.as_ref().map(grant).transpose()?.flatten())
    }

    /// The secret `name`, `fresh` if none was stored yet (the first writer wins).
    pub async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                &[&name, &fresh, &now_us()],
            )
            .await
            .map_err(db_error)?;
        let row =
            client.query_one("SELECT value FROM server_secrets WHERE name = $1", &[&name]).await.map_err(db_error)?;
        row.try_get(0).map_err(db_error)
    }

    /// Sets an app's limits (JSON text).
    pub async fn set_app_limits(&self, app_key: i64, limits: String) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO app_limits (app_key, limits) VALUES ($1, $2)
                 ON CONFLICT (app_key) DO UPDATE SET limits = excluded.limits",
                &[&app_key, &limits],
            )
            .await
            .map_err(db_error)?;
        notify(&**client, &Change::AppLimits { app_key }).await
    }

    /// Every app's own limits.
    pub async fn app_limits(&self) -> StoreResult<Vec<(i64, String)>> {
        let client = self.client().await?;
        let rows =
            client.query("SELECT app_key, limits FROM app_limits ORDER BY app_key", &[]).await.map_err(db_error)?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(db_error)?, r.try_get(1).map_err(db_error)?))).collect()
    }

    /// `Ok` while the database takes writes (a round trip; a full disk shows as `Full`).
    pub async fn check_writable(&self) -> StoreResult<()> {
        let client = self.client().await?;
        client.execute("SELECT 1", &[]).await.map_err(db_error)?;
        Ok(())
    }
}
