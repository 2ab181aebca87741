//! Seed 000, 4.2 on PostgreSQL: engine-layer URLs and the outbox of variable updates.

use deadpool_postgres::Object;
use tokio_postgres::{Row, Statement};

use super::PgStore;
use super::errors::db_error;
use crate::{DeliveryEnd, DeliveryStatus, NewVarDelivery, StoreResult, VarDelivery};
use cloudexec_engine::clock::now_us;

const COLUMNS: &str =
    "id, app_key, instance_id, variable_key, url, body, status, attempts, next_at, last_error, created_at";

fn delivery(row: &Row) -> VarDelivery {
    let status: String = row.get(6);
    VarDelivery {
        id: row.get(0),
        new: NewVarDelivery {
            app_key: row.get(1),
            instance_id: row.get(2),
            variable_key: row.get(3),
            url: row.get(4),
            body: row.get(5),
        },
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
        attempts: row.get(7),
        next_at: row.get(8),
        last_error: row.get(9),
        created_at: row.get(10),
    }
}

/// Queues variable updates for the engine layer, one statement for all of a run's; their
/// ids rise in the run's order (`ORDER BY ord`), the order they are delivered in.
const INSERT_DELIVERIES: &str =
    "INSERT INTO var_deliveries (app_key, instance_id, variable_key, url, body, status, next_at, created_at)
     SELECT app_key, instance_id, variable_key, url, body, 'pending', $6, $6
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
       AS t(app_key, instance_id, variable_key, url, body, ord)
     ORDER BY ord";

/// [`INSERT_DELIVERIES`] prepared on `client` (cached per connection), or `None` when a
/// run queued nothing.
pub(super) async fn prepare(client: &Object, deliveries: &[NewVarDelivery]) -> StoreResult<Option<Statement>> {
    if deliveries.is_empty() {
        return Ok(None);
    }
    client.prepare_cached(INSERT_DELIVERIES).await.map(Some).map_err(db_error)
}

/// Queues `deliveries` inside the run's commit transaction with `stmt` ([`prepare`]).
pub(super) async fn insert(
    tx: &tokio_postgres::Transaction<'_>,
    stmt: &Statement,
    deliveries: &[NewVarDelivery],
) -> StoreResult<()> {
    let app_keys: Vec<i64> = deliveries.iter().map(|d| d.app_key).collect();
    let instances: Vec<&str> = deliveries.iter().map(|d| d.instance_id.as_str()).collect();
    let keys: Vec<&str> = deliveries.iter().map(|d| d.variable_key.as_str()).collect();
    let urls: Vec<&str> = deliveries.iter().map(|d| d.url.as_str()).collect();
    let bodies: Vec<&str> = deliveries.iter().map(|d| d.body.as_str()).collect();
    tx.execute(stmt, &[&app_keys, &instances, &keys, &urls, &bodies, &now_us()]).await.map_err(db_error)?;
    Ok(())
}

impl PgStore {
    /// Sets or clears an app's engine-layer URL.
    pub async fn put_var_update_url(&self, app_key: i64, url: Option<String>) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO engine_layers (app_key, var_update_url, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (app_key) DO UPDATE SET var_update_url = excluded.var_update_url, updated_at = excluded.updated_at",
                &[&app_key, &url, &now_us()],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// An app's engine-layer URL.
    pub async fn var_update_url(&self, app_key: i64) -> StoreResult<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT var_update_url FROM engine_layers WHERE app_key = $1", &[&app_key])
            .await
            .map_err(db_error)?;
        Ok(row.and_then(|r| r.get(0)))
    }

    /// Claims due deliveries, the oldest pending one of each instance, skipping rows
    /// another node is claiming.
    pub async fn claim_var_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<VarDelivery>> {
        let client = self.client().await?;
        let sql = format!(
            "UPDATE var_deliveries SET next_at = $2, attempts = attempts + 1
             WHERE id IN (SELECT d.id FROM var_deliveries d WHERE d.status = 'pending' AND d.next_at <= $1
                 AND NOT EXISTS (SELECT 1 FROM var_deliveries e WHERE e.app_key = d.app_key
                     AND e.instance_id = d.instance_id AND e.status = 'pending' AND e.id < d.id)
                 ORDER BY d.id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING {COLUMNS}"
        );
        let rows = client.query(&sql, &[&now, &lease_until, &limit]).await.map_err(db_error)?;
        let mut claimed: Vec<VarDelivery> = rows.iter().map(delivery).collect();
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    /// Records how an attempt ended.
    pub async fn end_var_delivery(&self, id: i64, end: DeliveryEnd) -> StoreResult<()> {
        let (status, next_at, error) = match end {
            DeliveryEnd::Delivered => (DeliveryStatus::Delivered, None, None),
            DeliveryEnd::Retry { next_at, error } => (DeliveryStatus::Pending, Some(next_at), Some(error)),
            DeliveryEnd::Failed { error } => (DeliveryStatus::Failed, None, Some(error)),
        };
        let client = self.client().await?;
        client
            .execute(
                "UPDATE var_deliveries SET status = $2, next_at = COALESCE($3, next_at),
                 last_error = COALESCE($4, last_error) WHERE id = $1",
                &[&id, &status.as_str(), &next_at, &error],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// The latest deliveries of an instance, newest first.
    pub async fn list_var_deliveries(
        &self,
        app_key: i64,
        instance_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<VarDelivery>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM var_deliveries WHERE app_key = $1 AND instance_id = $2 ORDER BY id DESC LIMIT $3"
        );
        let rows = client.query(&sql, &[&app_key, &instance_id, &limit]).await.map_err(db_error)?;
        Ok(rows.iter().map(delivery).collect())
    }
}
