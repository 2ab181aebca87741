//! Bins, execution instances, function-key bindings and services on PostgreSQL: the
//! rules of `sqlite/bins.rs` (a run commits only if no other run committed since it read
//! the instance: the compare-and-set that serializes runs across nodes).

use cloudexec_engine::clock::now_us;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::errors::db_error;
use crate::{
    BinRecord, Binding, BindingTarget, InstanceRecord, InstanceStatus, NewVarDelivery, ServiceCategory, ServiceRecord,
    StoreError, StoreResult,
};

pub(super) const INSTANCE_COLUMNS: &str =
    "id, app_key, bin_id, status, state, runs, last_error, created_at, updated_at, service";

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(db_error)
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("stored JSON does not parse: {e}")))
}

pub(super) fn instance(r: &Row) -> StoreResult<InstanceRecord> {
    let (status, state): (String, String) = (r.try_get(3).map_err(db_error)?, r.try_get(4).map_err(db_error)?);
    Ok(InstanceRecord {
        id: r.try_get(0).map_err(db_error)?,
        app_key: r.try_get(1).map_err(db_error)?,
        bin_id: r.try_get(2).map_err(db_error)?,
        status: InstanceStatus::parse(&status)
            .ok_or_else(|| StoreError::Database(format!("unknown instance status {status:?}")))?,
        state: from_json(&state)?,
        runs: r.try_get(5).map_err(db_error)?,
        last_error: r.try_get(6).map_err(db_error)?,
        created_at: r.try_get(7).map_err(db_error)?,
        updated_at: r.try_get(8).map_err(db_error)?,
        service: r.try_get(9).map_err(db_error)?,
    })
}

pub(super) const BIN_COLUMNS: &str = "id, app_key, module_sha256, manifest, created_at";

pub(super) fn bin(r: &Row) -> StoreResult<BinRecord> {
    let manifest: String = r.try_get(3).map_err(db_error)?;
    Ok(BinRecord {
        id: r.try_get(0).map_err(db_error)?,
        app_key: r.try_get(1).map_err(db_error)?,
        module_sha256: r.try_get(2).map_err(db_error)?,
        manifest: from_json(&manifest)?,
        created_at: r.try_get(4).map_err(db_error)?,
    })
}

pub(super) const SERVICE_COLUMNS: &str = "app_key, alias, category, bin_id, revoked";

pub(super) fn service(r: &Row) -> StoreResult<ServiceRecord> {
    let code: i64 = r.try_get(2).map_err(db_error)?;
    Ok(ServiceRecord {
        app_key: r.try_get(0).map_err(db_error)?,
        alias: r.try_get(1).map_err(db_error)?,
        category: ServiceCategory::from_code(code)
            .ok_or_else(|| StoreError::Database(format!("unknown service category {code}")))?,
        bin_id: r.try_get(3).map_err(db_error)?,
        revoked: r.try_get(4).map_err(db_error)?,
    })
}

impl PgStore {
    /// Stores a bin.
    pub async fn create_bin(&self, bin: BinRecord) -> StoreResult<()> {
        let client = self.client().await?;
        let manifest = to_json(&bin.manifest)?;
        client
            .execute(
                "INSERT INTO bins (id, app_key, module_sha256, manifest, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&bin.id, &bin.app_key, &bin.module_sha256, &manifest, &bin.created_at],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// An app's bin.
    pub async fn get_bin(&self, app_key: i64, id: &str) -> StoreResult<Option<BinRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("SELECT {BIN_COLUMNS} FROM bins WHERE app_key = $1 AND id = $2"), &[&app_key, &id])
            .await
            .map_err(db_error)?;
        row.as_ref().map(bin).transpose()
    }

    /// Stores a new instance.
    pub async fn create_instance(&self, i: InstanceRecord) -> StoreResult<()> {
        let client = self.client().await?;
        let (status, state) = (i.status.as_str(), to_json(&i.state)?);
        let params: [&(dyn ToSql + Sync); 10] = [
            &i.id,
            &i.app_key,
            &i.bin_id,
            &status,
            &state,
            &i.runs,
            &i.last_error,
            &i.created_at,
            &i.updated_at,
            &i.service,
        ];
        client
            .execute(
                &format!("INSERT INTO instances ({INSTANCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                &params,
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// A live instance of an app.
    pub async fn get_instance(&self, app_key: i64, id: &str) -> StoreResult<Option<InstanceRecord>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE app_key = $1 AND id = $2 AND status <> 'destroyed'"
        );
        let stmt = client.prepare_cached(&sql).await.map_err(db_error)?;
        let row = client.query_opt(&stmt, &[&app_key, &id]).await.map_err(db_error)?;
        row.as_ref().map(instance).transpose()
    }

    /// Commits a run: only if the instance is live and no other run committed since
    /// `runs`; its variable updates for the engine layer are queued in the same transaction.
    pub async fn commit_run(&self, i: InstanceRecord, queued: Vec<NewVarDelivery>) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let (status, state) = (i.status.as_str(), to_json(&i.state)?);
        // Prepared once per pooled connection: a run's commit is then three round trips.
        let update = client
            .prepare_cached(
                "UPDATE instances SET status = $1, state = $2, runs = $3 + 1, last_error = $4, updated_at = $5
                 WHERE app_key = $6 AND id = $7 AND runs = $3 AND status <> 'destroyed'",
            )
            .await
            .map_err(db_error)?;
        let deliveries = super::deliveries::prepare(&client, &queued).await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let changed = tx
            .execute(&update, &[&status, &state, &i.runs, &i.last_error, &now_us(), &i.app_key, &i.id])
            .await
            .map_err(db_error)?;
        if changed != 1 {
            return Ok(false);
        }
        if let Some(deliveries) = deliveries {
            super::deliveries::insert(&tx, &deliveries, &queued).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    /// Marks an instance destroyed; false when it was not live.
    pub async fn destroy_instance(&self, app_key: i64, id: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE instances SET status = 'destroyed', updated_at = $1
                 WHERE app_key = $2 AND id = $3 AND status <> 'destroyed'",
                &[&now_us(), &app_key, &id],
            )
            .await
            .map_err(db_error)?;
        Ok(changed == 1)
    }

    /// Binds a function key to a function or URL.
    pub async fn put_binding(&self, app_key: i64, binding: Binding) -> StoreResult<()> {
        let (name, url) = match &binding.target {
            BindingTarget::Function(name) => (Some(name.as_str()), None),
            BindingTarget::Url(url) => (None, Some(url.as_str())),
        };
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO function_bindings (app_key, function_key, function_name, url, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (app_key, function_key) DO UPDATE SET function_name = excluded.function_name,
                     url = excluded.url, updated_at = excluded.updated_at",
                &[&app_key, &binding.function_key, &name, &url, &now_us()],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// An app's bindings by key.
    pub async fn list_bindings(&self, app_key: i64) -> StoreResult<Vec<Binding>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT function_key, function_name, url FROM function_bindings WHERE app_key = $1 ORDER BY function_key",
                &[&app_key],
            )
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                let (key, name, url): (String, Option<String>, Option<String>) =
                    (r.try_get(0).map_err(db_error)?, r.try_get(1).map_err(db_error)?, r.try_get(2).map_err(db_error)?);
                let target = match (name, url) {
                    (Some(name), _) => BindingTarget::Function(name),
                    (None, url) => BindingTarget::Url(url.unwrap_or_default()),
                };
                Ok(Binding { function_key: key, target })
            })
            .collect()
    }

    /// Publishes a service: a new alias, or one whose earlier service was revoked.
    pub async fn publish_service(&self, service: ServiceRecord) -> StoreResult<bool> {
        let client = self.client().await?;
        let now = now_us();
        let changed = client
            .execute(
                "INSERT INTO services (app_key, alias, category, bin_id, revoked, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, FALSE, $5, $5)
                 ON CONFLICT (app_key, alias) DO UPDATE SET category = excluded.category, bin_id = excluded.bin_id,
                     revoked = FALSE, updated_at = excluded.updated_at
                 WHERE services.revoked",
                &[&service.app_key, &service.alias, &service.category.code(), &service.bin_id, &now],
            )
            .await
            .map_err(db_error)?;
        Ok(changed == 1)
    }

    /// Revokes a live service of `category`; false when there was none.
    pub async fn revoke_service(&self, app_key: i64, alias: &str, category: ServiceCategory) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE services SET revoked = TRUE, updated_at = $1
                 WHERE app_key = $2 AND alias = $3 AND category = $4 AND NOT revoked",
                &[&now_us(), &app_key, &alias, &category.code()],
            )
            .await
            .map_err(db_error)?;
        Ok(changed == 1)
    }

    /// A service by alias, revoked or not.
    pub async fn get_service(&self, app_key: i64, alias: &str) -> StoreResult<Option<ServiceRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {SERVICE_COLUMNS} FROM services WHERE app_key = $1 AND alias = $2"),
                &[&app_key, &alias],
            )
            .await
            .map_err(db_error)?;
        row.as_ref().map(service).transpose()
    }
}
