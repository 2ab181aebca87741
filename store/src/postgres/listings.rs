//! Lists of a function's versions and of an app's bins, live instances and services, for the console and the API,
//! newest first and paged where they can grow large.

use super::PgStore;
use super::bins::{BIN_COLUMNS, INSTANCE_COLUMNS, SERVICE_COLUMNS, bin, instance, service};
use super::errors::db_error;
use crate::{BinRecord, FunctionVersion, InstanceRecord, PageRequest, ServiceRecord, StoreResult};

impl PgStore {
    /// A page of the app's bins, newest first, and how many there are.
    pub async fn list_bins(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<BinRecord>, i64)> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {BIN_COLUMNS} FROM bins WHERE app_key = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        );
        let rows = client.query(&sql, &[&app_key, &page.limit, &page.offset]).await.map_err(db_error)?;
        let total: i64 = client
            .query_one("SELECT COUNT(*) FROM bins WHERE app_key = $1", &[&app_key])
            .await
            .map_err(db_error)?
            .try_get(0)
            .map_err(db_error)?;
        Ok((rows.iter().map(bin).collect::<StoreResult<_>>()?, total))
    }

    /// A page of the app's live instances (of one bin when given), newest first, and how many.
    pub async fn list_instances(
        &self,
        app_key: i64,
        bin_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<InstanceRecord>, i64)> {
        let client = self.client().await?;
        let filter = "app_key = $1 AND status <> 'destroyed' AND ($2::text IS NULL OR bin_id = $2)";
        let sql = format!(
            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE {filter} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4"
        );
        let rows = client.query(&sql, &[&app_key, &bin_id, &page.limit, &page.offset]).await.map_err(db_error)?;
        let count = format!("SELECT COUNT(*) FROM instances WHERE {filter}");
        let total: i64 =
            client.query_one(&count, &[&app_key, &bin_id]).await.map_err(db_error)?.try_get(0).map_err(db_error)?;
        Ok((rows.iter().map(instance).collect::<StoreResult<_>>()?, total))
    }

    /// The app's services, live and revoked, by alias.
    pub async fn list_services(&self, app_key: i64) -> StoreResult<Vec<ServiceRecord>> {
        let client = self.client().await?;
        let sql = format!("SELECT {SERVICE_COLUMNS} FROM services WHERE app_key = $1 ORDER BY alias");
        let rows = client.query(&sql, &[&app_key]).await.map_err(db_error)?;
        rows.iter().map(service).collect()
    }

    /// A function's versions, newest first.
    pub async fn list_function_versions(&self, function_id: i64) -> StoreResult<Vec<FunctionVersion>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT version, module_sha256, created_at FROM function_versions WHERE function_id = $1 ORDER BY version DESC",
                &[&function_id],
            )
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(FunctionVersion {
                    version: r.try_get(0).map_err(db_error)?,
                    module_sha256: r.try_get(1).map_err(db_error)?,
                    created_at: r.try_get(2).map_err(db_error)?,
                })
            })
            .collect()
    }
}
