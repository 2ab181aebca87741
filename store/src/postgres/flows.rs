//! Flows and their versions on PostgreSQL: the rules of `sqlite/flows.rs` (executions are
//! in `executions.rs`).

use tokio_postgres::{GenericClient, Row};

use super::PgStore;
use super::errors::{constraint, db_error};
use super::listen::notify;
use crate::{Change, FlowRecord, NewFlowVersion, PageRequest, StoreError, StoreResult};

const FLOW_COLUMNS: &str =
    "f.id, f.app_key, f.name, v.version, v.format, v.definition, v.description, f.created_at, v.created_at";

fn flow(r: &Row) -> StoreResult<FlowRecord> {
    Ok(FlowRecord {
        id: r.try_get(0).map_err(db_error)?,
        app_key: r.try_get(1).map_err(db_error)?,
        name: r.try_get(2).map_err(db_error)?,
        version: r.try_get(3).map_err(db_error)?,
        format: r.try_get(4).map_err(db_error)?,
        definition: r.try_get(5).map_err(db_error)?,
        description: r.try_get(6).map_err(db_error)?,
        created_at: r.try_get(7).map_err(db_error)?,
        updated_at: r.try_get(8).map_err(db_error)?,
    })
}

async fn insert_version(c: &impl GenericClient, flow_id: i64, version: i64, new: &NewFlowVersion) -> StoreResult<()> {
    c.execute(
        "INSERT INTO flow_versions (flow_id, version, format, definition, description, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&flow_id, &version, &new.format, &new.definition, &new.description, &new.at],
    )
    .await
    .map_err(db_error)?;
    Ok(())
}

impl PgStore {
    /// Creates a flow at version 1.
    pub async fn create_flow(&self, new: NewFlowVersion) -> StoreResult<FlowRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO flows (app_key, name, latest_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)
                 RETURNING id",
                &[&new.app_key, &new.name, &new.at],
            )
            .await
            .map_err(|e| constraint(e, "Flow", format!("flow {:?}", new.name), &format!("app {}", new.app_key)))?
            .try_get(0)
            .map_err(db_error)?;
        insert_version(&*tx, id, 1, &new).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(new.stored(id, 1, new.at))
    }

    /// Adds version `latest + 1` to an existing flow.
    pub async fn add_flow_version(&self, new: NewFlowVersion) -> StoreResult<FlowRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let row = tx
            .query_opt(
                "UPDATE flows SET latest_version = latest_version + 1, updated_at = $1 WHERE app_key = $2 AND name = $3
                 RETURNING id, latest_version, created_at",
                &[&new.at, &new.app_key, &new.name],
            )
            .await
            .map_err(db_error)?
            .ok_or_else(|| StoreError::NotFound(format!("flow {:?}", new.name)))?;
        let (id, version, created_at): (i64, i64, i64) =
            (row.try_get(0).map_err(db_error)?, row.try_get(1).map_err(db_error)?, row.try_get(2).map_err(db_error)?);
        insert_version(&*tx, id, version, &new).await?;
        notify(&*tx, &Change::Flow { app_key: new.app_key, name: new.name.clone() }).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(new.stored(id, version, created_at))
    }

    /// The given version of a flow, or its latest.
    pub async fn get_flow(&self, app_key: i64, name: &str, version: Option<i64>) -> StoreResult<Option<FlowRecord>> {
        let client = self.client().await?;
        let sql = format!(
            "SELECT {FLOW_COLUMNS} FROM flows f
             JOIN flow_versions v ON v.flow_id = f.id AND v.version = COALESCE($3, f.latest_version)
             WHERE f.app_key = $1 AND f.name = $2"
        );
        let row = client.query_opt(&sql, &[&app_key, &name, &version]).await.map_err(db_error)?;
        row.as_ref().map(flow).transpose()
    }

    /// A page of the app's flows at their latest versions, by name, and the total.
    pub async fn list_flows(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FlowRecord>, i64)> {
        let client = self.client().await?;
        let total: i64 = client
            .query_one("SELECT COUNT(*) FROM flows WHERE app_key = $1", &[&app_key])
            .await
            .map_err(db_error)?
            .try_get(0)
            .map_err(db_error)?;
        let sql = format!(
            "SELECT {FLOW_COLUMNS} FROM flows f
             JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest_version
             WHERE f.app_key = $1 ORDER BY f.name LIMIT $2 OFFSET $3"
        );
        let (limit, offset) = (page.limit.max(0), page.offset.max(0));
        let rows = client.query(&sql, &[&app_key, &limit, &offset]).await.map_err(db_error)?;
        Ok((rows.iter().map(flow).collect::<StoreResult<_>>()?, total))
    }

    /// Deletes a flow with its versions, executions and history.
    pub async fn delete_flow(&self, app_key: i64, name: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let deleted = client
            .execute("DELETE FROM flows WHERE app_key = $1 AND name = $2", &[&app_key, &name])
            .await
            .map_err(db_error)?;
        if deleted > 0 {
            notify(&**client, &Change::Flow { app_key, name: name.to_string() }).await?;
        }
        Ok(deleted > 0)
    }
}
