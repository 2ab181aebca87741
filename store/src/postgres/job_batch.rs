//! The job writes PostgreSQL group-commits (`batch.rs`): new job records (a sync call's
//! finished job, an async call's waiting one) and the ends of claimed async jobs.

use async_trait::async_trait;
use deadpool_postgres::Pool;
use serde_json::Value as Json;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Statement};

use super::batch::BatchWrite;
use super::errors::db_error;
use super::jobs::JobRow;
use crate::{JobEnd, JobOutcome, NewJob, StoreResult};

/// One statement (so one implicit transaction, one round trip) inserts a batch: the jobs
/// from column arrays in input order, so their identity ids rise in that order (and are
/// returned in it), each finished one with its log in its own row (one heap row and its
/// index entries per job: a separate log row cost a second row, its index entry and a
/// foreign-key check locking the job's row); it notifies the other nodes when a job waits.
pub(super) const INSERT_BATCH: &str = "WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::bigint[], $9::bigint[], $10::text[], $11::bigint[], $12::text[], $13::text[], $14::text[], $15::bigint[],
        $16::bigint[], $17::bigint[], $18::text[])
      WITH ORDINALITY AS t(app_key, function_id, version, source, service_type, status, input, timeout_ms, created_at,
        module_sha256, memory_limit, output, error_code, error_message, mem_usage, started_at, finished_at, log, ord)
), inserted AS (
    INSERT INTO jobs (app_key, function_id, version, source, service_type, status, input, timeout_ms, created_at,
        module_sha256, memory_limit, output, error_code, error_message, mem_usage, started_at, finished_at, log)
    SELECT app_key, function_id, version, source, service_type, status, input, timeout_ms, created_at,
        module_sha256, memory_limit, output, error_code, error_message, mem_usage, started_at, finished_at,
        NULLIF(log, '')
    FROM input ORDER BY ord
    RETURNING id
)
SELECT id, (SELECT pg_notify('cloudexec', 'job') WHERE $19)::text FROM inserted ORDER BY id";

/// The batch's columns, in [`INSERT_BATCH`]'s parameter order.
#[derive(Default)]
struct Columns {
    app_key: Vec<i64>,
    function_id: Vec<i64>,
    version: Vec<i64>,
    source: Vec<String>,
    service_type: Vec<&'static str>,
    status: Vec<&'static str>,
    input: Vec<String>,
    timeout_ms: Vec<i64>,
    created_at: Vec<i64>,
    module_sha256: Vec<String>,
    memory_limit: Vec<i64>,
    output: Vec<Option<String>>,
    error_code: Vec<Option<String>>,
    error_message: Vec<Option<String>>,
    mem_usage: Vec<i64>,
    started_at: Vec<Option<i64>>,
    finished_at: Vec<Option<i64>>,
    log: Vec<String>,
}

impl Columns {
    fn of(jobs: &[(&NewJob, Option<&JobOutcome>)]) -> Self {
        let mut c = Self::default();
        for (job, outcome) in jobs {
            let row = JobRow::of(job, outcome.map(|o| &o.end));
            c.app_key.push(job.app_key);
            c.function_id.push(job.function_id);
            c.version.push(job.version);
            c.source.push(job.source.clone());
            c.service_type.push(job.service_type.as_str());
            c.status.push(row.status);
            c.input.push(row.input);
            c.timeout_ms.push(job.timeout_ms);
            c.created_at.push(job.created_at);
            c.module_sha256.push(job.module_sha256.clone());
            c.memory_limit.push(job.memory_limit);
            c.output.push(row.output);
            c.error_code.push(row.error_code);
            c.error_message.push(row.error_message);
            c.mem_usage.push(row.mem_usage);
            c.started_at.push(row.started_at);
            c.finished_at.push(row.finished_at);
            c.log.push(outcome.map(|o| o.log.clone()).unwrap_or_default());
        }
        c
    }
}

/// New job records: finished (with their outcome) or waiting.
pub(super) struct InsertJobs;

#[async_trait]
impl BatchWrite for InsertJobs {
    type Item = (NewJob, Option<JobOutcome>);

    /// Inserts the jobs with one statement; their ids in order.
    async fn commit(&self, pool: &Pool, items: &[&Self::Item]) -> StoreResult<Vec<i64>> {
        let jobs: Vec<(&NewJob, Option<&JobOutcome>)> =
            items.iter().map(|(job, outcome)| (job, outcome.as_ref())).collect();
        insert(pool, &jobs).await
    }
}

async fn insert(pool: &Pool, jobs: &[(&NewJob, Option<&JobOutcome>)]) -> StoreResult<Vec<i64>> {
    let client = pool.get().await.map_err(db_error)?;
    let statement = client.prepare_cached(INSERT_BATCH).await.map_err(db_error)?;
    insert_with(&**client, &statement, jobs).await
}

/// Inserts finished jobs with one statement on `c`, a transaction of the caller's (a
/// flow's step that ran 10,000 function tasks records them in one round trip).
/// `statement` is [`INSERT_BATCH`] prepared on the transaction's connection.
pub(super) async fn insert_in(
    c: &impl GenericClient,
    statement: &Statement,
    jobs: &[(NewJob, JobOutcome)],
) -> StoreResult<Vec<i64>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let jobs: Vec<(&NewJob, Option<&JobOutcome>)> = jobs.iter().map(|(job, outcome)| (job, Some(outcome))).collect();
    insert_with(c, statement, &jobs).await
}

async fn insert_with(
    c: &impl GenericClient,
    statement: &Statement,
    jobs: &[(&NewJob, Option<&JobOutcome>)],
) -> StoreResult<Vec<i64>> {
    let columns = Columns::of(jobs);
    let waiting = jobs.iter().any(|(_, outcome)| outcome.is_none());
    let params: [&(dyn ToSql + Sync); 19] = [
        &columns.app_key,
        &columns.function_id,
        &columns.version,
        &columns.source,
        &columns.service_type,
        &columns.status,
        &columns.input,
        &columns.timeout_ms,
        &columns.created_at,
        &columns.module_sha256,
        &columns.memory_limit,
        &columns.output,
        &columns.error_code,
        &columns.error_message,
        &columns.mem_usage,
        &columns.started_at,
        &columns.finished_at,
        &columns.log,
        &waiting,
    ];
    let rows = c.query(statement, &params).await.map_err(db_error)?;
    rows.iter().map(|r| r.try_get(0).map_err(db_error)).collect()
}

/// Ends of claimed jobs, each written only while the job is still executing for the node
/// that ends it (a job reclaimed meanwhile keeps its new run); the log with it.
const FINISH_BATCH: &str = "WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
        $8::bigint[], $9::text[], $10::text[])
      AS t(id, status, output, error_code, error_message, mem_usage, started_at, finished_at, log, node)
), updated AS (
    UPDATE jobs j SET status = i.status, output = i.output, error_code = i.error_code,
        error_message = i.error_message, mem_usage = i.mem_usage, started_at = i.started_at,
        finished_at = i.finished_at, log = NULLIF(i.log, '')
    FROM input i WHERE j.id = i.id AND j.status = 'executing' AND j.claimed_by = i.node
    RETURNING j.id
)
SELECT i.id, u.id IS NOT NULL FROM input i LEFT JOIN updated u ON u.id = i.id";

/// The end of a job `node` claimed.
pub(super) struct FinishJobs;

#[async_trait]
impl BatchWrite for FinishJobs {
    /// `(node, job id, outcome)`.
    type Item = (String, i64, JobOutcome);

    /// Writes the ends; 1 for a job that ended here, 0 for one that was no longer this node's.
    async fn commit(&self, pool: &Pool, items: &[&Self::Item]) -> StoreResult<Vec<i64>> {
        let client = pool.get().await.map_err(db_error)?;
        let statement = client.prepare_cached(FINISH_BATCH).await.map_err(db_error)?;
        let ends: Vec<&JobEnd> = items.iter().map(|(_, _, o)| &o.end).collect();
        let failures: Vec<_> = ends.iter().map(|e| e.failure()).collect();
        let ids: Vec<i64> = items.iter().map(|(_, id, _)| *id).collect();
        let status: Vec<&str> = ends.iter().map(|e| e.status().as_str()).collect();
        let output: Vec<Option<String>> = ends.iter().map(|e| e.result.as_ref().ok().map(Json::to_string)).collect();
        let code: Vec<Option<&str>> = failures.iter().map(|f| f.map(|f| f.code.as_str())).collect();
        let message: Vec<Option<&str>> = failures.iter().map(|f| f.map(|f| f.message.as_str())).collect();
        let mem: Vec<i64> = ends.iter().map(|e| e.mem_usage).collect();
        let started: Vec<i64> = ends.iter().map(|e| e.started_at).collect();
        let finished: Vec<i64> = ends.iter().map(|e| e.finished_at).collect();
        let logs: Vec<&str> = items.iter().map(|(_, _, o)| o.log.as_str()).collect();
        let nodes: Vec<&str> = items.iter().map(|(node, _, _)| node.as_str()).collect();
        let params: [&(dyn ToSql + Sync); 10] =
            [&ids, &status, &output, &code, &message, &mem, &started, &finished, &logs, &nodes];
        let rows = client.query(&statement, &params).await.map_err(db_error)?;
        let mut ended = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let (id, changed): (i64, bool) = (row.try_get(0).map_err(db_error)?, row.try_get(1).map_err(db_error)?);
            ended.insert(id, changed);
        }
        Ok(ids.iter().map(|id| i64::from(ended.get(id).copied().unwrap_or(false))).collect())
    }
}
