//! Apps, modules and functions on PostgreSQL (so far what jobs need: the rest of the
//! `Store` follows with the conformance suite).

use cloudexec_engine::Plan;
use cloudexec_engine::clock::now_us;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::errors::{db_error, unique};
use super::listen::notify;
use crate::{App, Change, FunctionRecord, FunctionUpdate, NewFunction, PageRequest, StoreError, StoreResult};

/// The advisory lock key of [`PgStore::first_app`] (any fixed number).
const FIRST_APP_LOCK: i64 = 0x6170_7073;

/// Columns of [`function`]: a function joined to its current version.
const FUNCTION_SELECT: &str = "SELECT f.id, f.app_key, f.name, f.remark, f.plan, f.sync_timeout_ms, \
     f.async_timeout_ms, f.version, v.module_sha256, f.created_at, f.updated_at \
     FROM functions f JOIN function_versions v ON v.function_id = f.id AND v.version = f.version";

fn function(row: &Row) -> StoreResult<FunctionRecord> {
    let plan: String = row.try_get(4).map_err(db_error)?;
    Ok(FunctionRecord {
        id: row.try_get(0).map_err(db_error)?,
        app_key: row.try_get(1).map_err(db_error)?,
        name: row.try_get(2).map_err(db_error)?,
        remark: row.try_get(3).map_err(db_error)?,
        plan: Plan::from_name(&plan).ok_or_else(|| StoreError::Database(format!("unknown plan {plan:?}")))?,
        sync_timeout_ms: row.try_get(5).map_err(db_error)?,
        async_timeout_ms: row.try_get(6).map_err(db_error)?,
        version: row.try_get(7).map_err(db_error)?,
        module_sha256: row.try_get(8).map_err(db_error)?,
        created_at: row.try_get(9).map_err(db_error)?,
        updated_at: row.try_get(10).map_err(db_error)?,
    })
}

fn app(row: &Row) -> StoreResult<App> {
    Ok(App {
        app_key: row.try_get(0).map_err(db_error)?,
        name: row.try_get(1).map_err(db_error)?,
        created_at: row.try_get(2).map_err(db_error)?,
    })
}

impl PgStore {
    /// Creates an app; its key is assigned by the database.
    pub async fn create_app(&self, name: &str) -> StoreResult<App> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO apps (name, created_at) VALUES ($1, $2) RETURNING app_key, name, created_at",
                &[&name, &now_us()],
            )
            .await
            .map_err(db_error)?;
        app(&row)
    }

    /// The first app, or a new one named `name`: under a transaction-scoped advisory lock,
    /// so nodes starting at once on an empty database create one app, not one each.
    pub async fn first_app(&self, name: &str) -> StoreResult<App> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FIRST_APP_LOCK]).await.map_err(db_error)?;
        let first = tx
            .query_opt("SELECT app_key, name, created_at FROM apps ORDER BY app_key LIMIT 1", &[])
            .await
            .map_err(db_error)?;
        let row = match first {
            Some(row) => row,
            None => tx
                .query_one(
                    "INSERT INTO apps (name, created_at) VALUES ($1, $2) RETURNING app_key, name, created_at",
                    &[&name, &now_us()],
                )
                .await
                .map_err(db_error)?,
        };
        let first = app(&row)?;
        tx.commit().await.map_err(db_error)?;
        Ok(first)
    }

    /// All apps, by key.
    pub async fn list_apps(&self) -> StoreResult<Vec<App>> {
        let client = self.client().await?;
        let rows =
            client.query("SELECT app_key, name, created_at FROM apps ORDER BY app_key", &[]).await.map_err(db_error)?;
        rows.iter().map(app).collect()
    }

    /// Stores module bytes under their sha256 (once).
    pub async fn put_module(&self, sha256: &str, bytes: Vec<u8>) -> StoreResult<()> {
        let client = self.client().await?;
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        client
            .execute(
                "INSERT INTO modules (sha256, bytes, size, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (sha256) DO NOTHING",
                &[&sha256, &bytes, &size, &now_us()],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// A module's bytes.
    pub async fn get_module(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        let client = self.client().await?;
        let row =
            client.query_opt("SELECT bytes FROM modules WHERE sha256 = $1", &[&sha256]).await.map_err(db_error)?;
        row.map(|r| r.try_get(0)).transpose().map_err(db_error)
    }

    /// Creates a function at version 1.
    pub async fn create_function(&self, new: NewFunction) -> StoreResult<FunctionRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let plan = new.plan.name();
        let params: [&(dyn ToSql + Sync); 7] =
            [&new.app_key, &new.name, &new.remark, &plan, &new.sync_timeout_ms, &new.async_timeout_ms, &new.now];
        let id: i64 = tx
            .query_one(
                "INSERT INTO functions (app_key, name, remark, plan, sync_timeout_ms, async_timeout_ms, version,
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
                &params,
            )
            .await
            .map_err(unique("Function", format!("function {:?}", new.name)))?
            .try_get(0)
            .map_err(db_error)?;
        tx.execute(
            "INSERT INTO function_versions (function_id, version, module_sha256, created_at) VALUES ($1, 1, $2, $3)",
            &[&id, &new.module_sha256, &new.now],
        )
        .await
        .map_err(db_error)?;
        let row = tx.query_one(&format!("{FUNCTION_SELECT} WHERE f.id = $1"), &[&id]).await.map_err(db_error)?;
        let created = function(&row)?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    /// The app's function by name.
    pub async fn get_function(&self, app_key: i64, name: &str) -> StoreResult<Option<FunctionRecord>> {
        let client = self.client().await?;
        let sql = format!("{FUNCTION_SELECT} WHERE f.app_key = $1 AND f.name = $2");
        let row = client.query_opt(&sql, &[&app_key, &name]).await.map_err(db_error)?;
        row.as_ref().map(function).transpose()
    }
}

impl PgStore {
    /// A page of the app's functions by name, and the total.
    pub async fn list_functions(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FunctionRecord>, i64)> {
        let client = self.client().await?;
        let total: i64 = client
            .query_one("SELECT COUNT(*) FROM functions WHERE app_key = $1", &[&app_key])
            .await
            .map_err(db_error)?
            .try_get(0)
            .map_err(db_error)?;
        let sql = format!("{FUNCTION_SELECT} WHERE f.app_key = $1 ORDER BY f.name LIMIT $2 OFFSET $3");
        let rows = client.query(&sql, &[&app_key, &page.limit, &page.offset]).await.map_err(db_error)?;
        Ok((rows.iter().map(function).collect::<StoreResult<_>>()?, total))
    }

    /// Changes metadata and, with new code, adds a version.
    pub async fn update_function(
        &self,
        app_key: i64,
        name: &str,
        update: FunctionUpdate,
    ) -> StoreResult<FunctionRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let sql = format!("{FUNCTION_SELECT} WHERE f.app_key = $1 AND f.name = $2 FOR UPDATE OF f");
        let row = tx.query_opt(&sql, &[&app_key, &name]).await.map_err(db_error)?;
        let current = row
            .as_ref()
            .map(function)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("function {name:?}")))?;
        let new_name = update.name.as_deref().unwrap_or(name);
        let code_changed = update.module_sha256.as_ref().is_some_and(|sha| *sha != current.module_sha256);
        let version = if code_changed { current.version + 1 } else { current.version };
        let (remark, plan) =
            (update.remark.as_deref().unwrap_or(&current.remark), update.plan.unwrap_or(current.plan).name());
        let (sync_ms, async_ms) = (
            update.sync_timeout_ms.unwrap_or(current.sync_timeout_ms),
            update.async_timeout_ms.unwrap_or(current.async_timeout_ms),
        );
        let params: [&(dyn ToSql + Sync); 8] =
            [&new_name, &remark, &plan, &sync_ms, &async_ms, &version, &update.now, &current.id];
        tx.execute(
            "UPDATE functions SET name = $1, remark = $2, plan = $3, sync_timeout_ms = $4, async_timeout_ms = $5,
                 version = $6, updated_at = $7 WHERE id = $8",
            &params,
        )
        .await
        .map_err(unique("Function", format!("function {new_name:?}")))?;
        if let (true, Some(sha)) = (code_changed, &update.module_sha256) {
            tx.execute(
                "INSERT INTO function_versions (function_id, version, module_sha256, created_at) VALUES ($1, $2, $3, $4)",
                &[&current.id, &version, sha, &update.now],
            )
            .await
            .map_err(db_error)?;
        }
        let row =
            tx.query_one(&format!("{FUNCTION_SELECT} WHERE f.id = $1"), &[&current.id]).await.map_err(db_error)?;
        let updated = function(&row)?;
        notify(&*tx, &Change::Function { app_key, name: name.to_string() }).await?;
        if new_name != name {
            notify(&*tx, &Change::Function { app_key, name: new_name.to_string() }).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(updated)
    }

    /// Deletes a function with its versions, jobs and logs; false when there was none.
    pub async fn delete_function(&self, app_key: i64, name: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let deleted = client
            .execute("DELETE FROM functions WHERE app_key = $1 AND name = $2", &[&app_key, &name])
            .await
            .map_err(db_error)?;
        if deleted > 0 {
            notify(&**client, &Change::Function { app_key, name: name.to_string() }).await?;
        }
        Ok(deleted > 0)
    }
}
