//! Signals for the node that drives an execution on PostgreSQL: the rules of
//! `sqlite/signals.rs`.

use serde_json::Value as Json;
use tokio_postgres::Row;

use super::PgStore;
use super::errors::db_error;
use super::listen::notify;
use crate::{Change, ExecutionSignal, SignalKind, StoreError, StoreResult};
use cloudexec_engine::clock::now_us;

/// How long a settled signal's outcome waits for its reader before it is dropped (µs).
const OUTCOME_KEPT_US: i64 = 600_000_000;

fn json(text: &str) -> StoreResult<Json> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("a stored signal does not parse: {e}")))
}

fn signal(r: &Row) -> StoreResult<ExecutionSignal> {
    let kind: String = r.try_get(2).map_err(db_error)?;
    let body: String = r.try_get(4).map_err(db_error)?;
    Ok(ExecutionSignal {
        id: r.try_get(0).map_err(db_error)?,
        execution_id: r.try_get(1).map_err(db_error)?,
        kind: SignalKind::parse(&kind).ok_or_else(|| StoreError::Database(format!("unknown signal kind {kind:?}")))?,
        task: r.try_get(3).map_err(db_error)?,
        body: json(&body)?,
        created_at: r.try_get(5).map_err(db_error)?,
    })
}

impl PgStore {
    /// Stores the signal if its execution is still running.
    pub async fn add_signal(&self, s: ExecutionSignal) -> StoreResult<i64> {
        let client = self.client().await?;
        let body = s.body.to_string();
        let row = client
            .query_opt(
                "INSERT INTO execution_signals (execution_id, kind, task, body, created_at)
                 SELECT $1, $2, $3, $4, $5 FROM executions WHERE id = $1 AND status IN ('Starting', 'Running')
                 RETURNING id",
                &[&s.execution_id, &s.kind.as_str(), &s.task, &body, &s.created_at],
            )
            .await
            .map_err(db_error)?;
        let row = row.ok_or_else(|| StoreError::NotFound(format!("running execution {:?}", s.execution_id)))?;
        notify(&**client, &Change::Signal).await?;
        row.try_get(0).map_err(db_error)
    }

    /// Signals without an outcome for executions `node` owns, oldest first.
    pub async fn open_signals(&self, node: &str) -> StoreResult<Vec<ExecutionSignal>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT s.id, s.execution_id, s.kind, s.task, s.body, s.created_at
                 FROM execution_signals s JOIN executions e ON e.id = s.execution_id
                 WHERE s.outcome IS NULL AND e.owner = $1 ORDER BY s.id LIMIT 100",
                &[&node],
            )
            .await
            .map_err(db_error)?;
        rows.iter().map(signal).collect()
    }

    /// Records a signal's outcome and drops old unread ones.
    pub async fn settle_signal(&self, id: i64, outcome: Json) -> StoreResult<()> {
        let client = self.client().await?;
        let outcome = outcome.to_string();
        client
            .execute("UPDATE execution_signals SET outcome = $2 WHERE id = $1", &[&id, &outcome])
            .await
            .map_err(db_error)?;
        client
            .execute(
                "DELETE FROM execution_signals WHERE outcome IS NOT NULL AND created_at < $1",
                &[&(now_us() - OUTCOME_KEPT_US)],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// A settled signal's outcome, removing the signal.
    pub async fn take_signal_outcome(&self, id: i64) -> StoreResult<Option<Json>> {
        let client = self.client().await?;
        let row = client
            .query_opt("DELETE FROM execution_signals WHERE id = $1 AND outcome IS NOT NULL RETURNING outcome", &[&id])
            .await
            .map_err(db_error)?;
        row.map(|r| json(&r.try_get::<_, String>(0).map_err(db_error)?)).transpose()
    }
}
