//! Flow executions and their history on PostgreSQL: the rules of `sqlite/executions.rs`
//! (a transition writes the row, its state parts, its events and its tasks' job records in
//! one transaction; only the owning node writes).

use deadpool_postgres::Object;
use serde_json::Value as Json;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row, Statement};

use super::PgStore;
use super::errors::{constraint, db_error};
use super::job_batch;
use crate::{
    ExecStatus, ExecutionEvent, ExecutionRecord, ExecutionUpdate, PageRequest, StateDoc, StoreError, StoreResult,
};
use cloudexec_engine::clock::now_us;

const EXECUTION_COLUMNS: &str = "id, app_key, flow_id, flow_name, flow_version, name, status, input, output, error, \
     callback_url, state, created_at, finished_at, deadline_at, owner";

/// Stored JSON is written by us; text that does not parse fails the read.
fn parse(text: &str) -> StoreResult<Json> {
    serde_json::from_str(text).map_err(|e| StoreError::Database(format!("stored JSON does not parse: {e}")))
}

fn execution(r: &Row) -> StoreResult<ExecutionRecord> {
    let status: String = r.try_get(6).map_err(db_error)?;
    let input: String = r.try_get(7).map_err(db_error)?;
    let output: Option<String> = r.try_get(8).map_err(db_error)?;
    let error: Option<String> = r.try_get(9).map_err(db_error)?;
    Ok(ExecutionRecord {
        id: r.try_get(0).map_err(db_error)?,
        app_key: r.try_get(1).map_err(db_error)?,
        flow_id: r.try_get(2).map_err(db_error)?,
        flow_name: r.try_get(3).map_err(db_error)?,
        flow_version: r.try_get(4).map_err(db_error)?,
        name: r.try_get(5).map_err(db_error)?,
        status: ExecStatus::parse(&status)
            .ok_or_else(|| StoreError::Database(format!("unknown execution status {status:?}")))?,
        input: parse(&input)?,
        output: output.as_deref().map(parse).transpose()?,
        error: error.as_deref().map(parse).transpose()?,
        callback_url: r.try_get(10).map_err(db_error)?,
        state: StateDoc { head: r.try_get(11).map_err(db_error)?, parts: Vec::new() },
        created_at: r.try_get(12).map_err(db_error)?,
        finished_at: r.try_get(13).map_err(db_error)?,
        deadline_at: r.try_get(14).map_err(db_error)?,
        owner: r.try_get(15).map_err(db_error)?,
    })
}

fn event(r: &Row) -> StoreResult<ExecutionEvent> {
    let detail: String = r.try_get(4).map_err(db_error)?;
    Ok(ExecutionEvent {
        seq: r.try_get(0).map_err(db_error)?,
        at: r.try_get(1).map_err(db_error)?,
        kind: r.try_get(2).map_err(db_error)?,
        node: r.try_get(3).map_err(db_error)?,
        detail: parse(&detail)?,
    })
}

/// Appends history events with one statement (a Map of 10,000 items starts 20,000 of
/// them in one write: a round trip each took seconds).
const INSERT_EVENTS: &str = "INSERT INTO execution_events (execution_id, seq, at, kind, node, detail)
     SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])";

/// Replaces the state parts a write carries with one statement; the others stay.
const WRITE_PARTS: &str = "INSERT INTO execution_parts (execution_id, part, body)
     SELECT $1, * FROM unnest($2::text[], $3::text[])
     ON CONFLICT (execution_id, part) DO UPDATE SET body = excluded.body";

/// A transition's row, fenced on the owner.
const UPDATE_EXECUTION: &str = "UPDATE executions SET status = $1, state = $2, output = $3, error = $4,
     finished_at = $5, updated_at = $6 WHERE id = $7 AND owner IS NOT DISTINCT FROM $8";

/// The statements a transition runs, prepared once per pooled connection (a flow step's
/// write is then a round trip each, not a prepare and a round trip each).
struct Statements {
    update: Statement,
    parts: Statement,
    events: Statement,
    jobs: Statement,
}

impl Statements {
    async fn of(client: &Object) -> StoreResult<Self> {
        let prepare = |sql| client.prepare_cached(sql);
        Ok(Self {
            update: prepare(UPDATE_EXECUTION).await.map_err(db_error)?,
            parts: prepare(WRITE_PARTS).await.map_err(db_error)?,
            events: prepare(INSERT_EVENTS).await.map_err(db_error)?,
            jobs: prepare(job_batch::INSERT_BATCH).await.map_err(db_error)?,
        })
    }
}

/// Runs [`INSERT_EVENTS`]; a `seq` already used fails the write, naming the batch's seqs.
async fn insert_events(
    c: &impl GenericClient,
    stmt: &Statement,
    id: &str,
    events: &[ExecutionEvent],
) -> StoreResult<()> {
    let Some(first) = events.first() else { return Ok(()) };
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let ats: Vec<i64> = events.iter().map(|e| e.at).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let nodes: Vec<Option<&str>> = events.iter().map(|e| e.node.as_deref()).collect();
    let details: Vec<String> = events.iter().map(|e| e.detail.to_string()).collect();
    c.execute(stmt, &[&id, &seqs, &ats, &kinds, &nodes, &details]).await.map_err(|err| {
        let what = match events.len() {
            1 => format!("event {} of execution {id:?}", first.seq),
            n => format!("one of events {}..{} ({n}) of execution {id:?}", first.seq, seqs[n - 1]),
        };
        constraint(err, "Event", what, &format!("execution {id:?}"))
    })?;
    Ok(())
}

/// Runs [`WRITE_PARTS`].
async fn write_parts(
    c: &impl GenericClient,
    stmt: &Statement,
    id: &str,
    parts: &[(String, String)],
) -> StoreResult<()> {
    if parts.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = parts.iter().map(|(part, _)| part.as_str()).collect();
    let bodies: Vec<&str> = parts.iter().map(|(_, body)| body.as_str()).collect();
    c.execute(stmt, &[&id, &names, &bodies]).await.map_err(db_error)?;
    Ok(())
}

async fn with_parts(c: &impl GenericClient, mut record: ExecutionRecord) -> StoreResult<ExecutionRecord> {
    let rows = c
        .query("SELECT part, body FROM execution_parts WHERE execution_id = $1 ORDER BY part", &[&record.id])
        .await
        .map_err(db_error)?;
    record.state.parts = rows
        .iter()
        .map(|r| Ok((r.try_get(0).map_err(db_error)?, r.try_get(1).map_err(db_error)?)))
        .collect::<StoreResult<_>>()?;
    Ok(record)
}

impl PgStore {
    /// Inserts an execution (only if its flow belongs to its app) and its first events.
    pub async fn create_execution(&self, x: ExecutionRecord, events: Vec<ExecutionEvent>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let statements = Statements::of(&client).await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let (status, input) = (x.status.as_str(), x.input.to_string());
        let (output, error) = (x.output.as_ref().map(Json::to_string), x.error.as_ref().map(Json::to_string));
        let params: [&(dyn ToSql + Sync); 16] = [
            &x.id,
            &x.app_key,
            &x.flow_id,
            &x.flow_name,
            &x.flow_version,
            &x.name,
            &status,
            &input,
            &output,
            &error,
            &x.callback_url,
            &x.state.head,
            &x.created_at,
            &x.finished_at,
            &x.deadline_at,
            &x.owner,
        ];
        let taken = format!("execution {:?}", x.name.as_deref().unwrap_or(&x.id));
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO executions ({EXECUTION_COLUMNS}, updated_at)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $13
                     FROM flows WHERE id = $3 AND app_key = $2"
                ),
                &params,
            )
            .await
            .map_err(|e| constraint(e, "Execution", taken, &format!("flow {}", x.flow_id)))?;
        if inserted == 0 {
            return Err(StoreError::NotFound(format!("flow {}", x.flow_id)));
        }
        write_parts(&*tx, &statements.parts, &x.id, &x.state.parts).await?;
        insert_events(&*tx, &statements.events, &x.id, &events).await?;
        tx.commit().await.map_err(db_error)
    }

    /// One transition: the row, its parts, its events and its job records together.
    pub async fn save_execution(&self, u: ExecutionUpdate, events: Vec<ExecutionEvent>) -> StoreResult<()> {
        let mut client = self.client().await?;
        let statements = Statements::of(&client).await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let (status, output) = (u.status.as_str(), u.output.as_ref().map(Json::to_string));
        let error = u.error.as_ref().map(Json::to_string);
        let row: [&(dyn ToSql + Sync); 8] =
            [&status, &u.state.head, &output, &error, &u.finished_at, &now_us(), &u.id, &u.owner];
        let changed = tx.execute(&statements.update, &row).await.map_err(db_error)?;
        if changed == 0 {
            let exists = tx.query_opt("SELECT 1 FROM executions WHERE id = $1", &[&u.id]).await.map_err(db_error)?;
            let what = format!("execution {:?}", u.id);
            return Err(if exists.is_some() { StoreError::LeaseLost(what) } else { StoreError::NotFound(what) });
        }
        write_parts(&*tx, &statements.parts, &u.id, &u.state.parts).await?;
        insert_events(&*tx, &statements.events, &u.id, &events).await?;
        job_batch::insert_in(&*tx, &statements.jobs, &u.jobs).await?;
        tx.commit().await.map_err(db_error)
    }

    /// An execution of an app, with its state parts.
    pub async fn get_execution(&self, app_key: i64, id: &str) -> StoreResult<Option<ExecutionRecord>> {
        let client = self.client().await?;
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE app_key = $1 AND id = $2");
        match client.query_opt(&sql, &[&app_key, &id]).await.map_err(db_error)? {
            Some(row) => Ok(Some(with_parts(&**client, execution(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// A flow's execution by its name, with its state parts.
    pub async fn get_execution_by_name(&self, flow_id: i64, name: &str) -> StoreResult<Option<ExecutionRecord>> {
        let client = self.client().await?;
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE flow_id = $1 AND name = $2");
        match client.query_opt(&sql, &[&flow_id, &name]).await.map_err(db_error)? {
            Some(row) => Ok(Some(with_parts(&**client, execution(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// A page of a flow's executions, newest first (heads only), and the total.
    pub async fn list_executions(&self, flow_id: i64, page: PageRequest) -> StoreResult<(Vec<ExecutionRecord>, i64)> {
        let client = self.client().await?;
        let total: i64 = client
            .query_one("SELECT COUNT(*) FROM executions WHERE flow_id = $1", &[&flow_id])
            .await
            .map_err(db_error)?
            .try_get(0)
            .map_err(db_error)?;
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE flow_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let (limit, offset) = (page.limit.max(0), page.offset.max(0));
        let rows = client.query(&sql, &[&flow_id, &limit, &offset]).await.map_err(db_error)?;
        Ok((rows.iter().map(execution).collect::<StoreResult<_>>()?, total))
    }

    /// Up to `limit` events of an execution with `seq > after`, in order.
    pub async fn list_execution_events(&self, id: &str, after: i64, limit: i64) -> StoreResult<Vec<ExecutionEvent>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT seq, at, kind, node, detail FROM execution_events
                 WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&id, &after, &limit.max(0)],
            )
            .await
            .map_err(db_error)?;
        rows.iter().map(event).collect()
    }

    /// Makes `node` the owner of the unfinished executions it may take (see
    /// `Store::claim_executions`); rows another node is claiming are skipped, not waited for.
    pub async fn claim_executions(
        &self,
        node: &str,
        stale_before: i64,
        own: bool,
    ) -> StoreResult<Vec<ExecutionRecord>> {
        let client = self.client().await?;
        let sql = format!(
            "UPDATE executions SET owner = $1 WHERE id IN (
                 SELECT id FROM executions WHERE status IN ('Starting', 'Running')
                   AND (owner IS NULL OR ($3 AND owner = $1) OR (owner <> $1 AND NOT EXISTS
                       (SELECT 1 FROM nodes n WHERE n.id = executions.owner AND n.heartbeat_at >= $2)))
                 FOR UPDATE SKIP LOCKED)
             RETURNING {EXECUTION_COLUMNS}"
        );
        let rows = client.query(&sql, &[&node, &stale_before, &own]).await.map_err(db_error)?;
        let mut records = rows.iter().map(execution).collect::<StoreResult<Vec<_>>>()?;
        records.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut whole = Vec::with_capacity(records.len());
        for record in records {
            whole.push(with_parts(&**client, record).await?);
        }
        Ok(whole)
    }
}
