//! Jobs, their logs and the nodes' leases on PostgreSQL: the same rules as
//! `sqlite/jobs.rs`, with claims taken `FOR UPDATE SKIP LOCKED`, so nodes claiming at
//! once never take the same job and never wait for each other.

use serde_json::Value as Json;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::errors::db_error;
use crate::{
    JobEnd, JobFilter, JobOutcome, JobRecord, JobState, JobStatus, JobWritten, NewJob, PageRequest, ServiceType,
    StateColumns, StoreError, StoreResult,
};

/// Columns of [`job`], in order (the SQLite store's, so the mapping reads the same).
const JOB_COLUMNS: &str = "id, app_key, function_id, version, source, service_type, status, input, output, \
     error_code, error_message, mem_usage, timeout_ms, created_at, started_at, finished_at, module_sha256, memory_limit, restarts, claimed_by";

/// Stored JSON is written by us; text that does not parse is shown as a string.
fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string()))
}

/// A job row as a record; a row whose columns do not fit its status is an error.
fn job(row: &Row) -> StoreResult<JobRecord> {
    let get_err = |e: tokio_postgres::Error| db_error(e);
    let input: String = row.try_get(7).map_err(get_err)?;
    let output: Option<String> = row.try_get(8).map_err(get_err)?;
    let columns = StateColumns {
        status: row.try_get(6).map_err(get_err)?,
        output: output.as_deref().map(parse_json),
        error_code: row.try_get(9).map_err(get_err)?,
        error_message: row.try_get(10).map_err(get_err)?,
        mem_usage: row.try_get(11).map_err(get_err)?,
        started_at: row.try_get(14).map_err(get_err)?,
        finished_at: row.try_get(15).map_err(get_err)?,
    };
    let service_type: String = row.try_get(5).map_err(get_err)?;
    Ok(JobRecord {
        id: row.try_get(0).map_err(get_err)?,
        app_key: row.try_get(1).map_err(get_err)?,
        function_id: row.try_get(2).map_err(get_err)?,
        version: row.try_get(3).map_err(get_err)?,
        source: row.try_get(4).map_err(get_err)?,
        service_type: ServiceType::parse(&service_type)
            .ok_or_else(|| StoreError::Database(format!("unknown service type {service_type:?}")))?,
        input: parse_json(&input),
        timeout_ms: row.try_get(12).map_err(get_err)?,
        created_at: row.try_get(13).map_err(get_err)?,
        module_sha256: row.try_get(16).map_err(get_err)?,
        memory_limit: row.try_get(17).map_err(get_err)?,
        restarts: row.try_get(18).map_err(get_err)?,
        node: row.try_get(19).map_err(get_err)?,
        state: JobState::from_columns(columns).map_err(StoreError::Database)?,
    })
}

/// A job's row values: `waiting` without an outcome, or finished with it.
pub(super) struct JobRow {
    pub(super) status: &'static str,
    pub(super) input: String,
    pub(super) output: Option<String>,
    pub(super) error_code: Option<String>,
    pub(super) error_message: Option<String>,
    pub(super) mem_usage: i64,
    pub(super) started_at: Option<i64>,
    pub(super) finished_at: Option<i64>,
}

impl JobRow {
    pub(super) fn of(job: &NewJob, end: Option<&JobEnd>) -> Self {
        let failure = end.and_then(JobEnd::failure);
        Self {
            status: end.map_or(JobStatus::Waiting, JobEnd::status).as_str(),
            input: job.input.to_string(),
            output: end.and_then(|e| e.result.as_ref().ok()).map(Json::to_string),
            error_code: failure.map(|f| f.code.clone()),
            error_message: failure.map(|f| f.message.clone()),
            mem_usage: end.map_or(0, |e| e.mem_usage),
            started_at: end.map(|e| e.started_at),
            finished_at: end.map(|e| e.finished_at),
        }
    }
}

impl PgStore {
    /// Records a job that already ran with its outcome and log (group-committed with
    /// other job writes, `job_batch.rs`); returns its id.
    pub async fn insert_finished_job(&self, job: NewJob, outcome: JobOutcome) -> StoreResult<i64> {
        self.job_inserts.write((job, Some(outcome))).await
    }

    /// Queues [`PgStore::insert_finished_job`] from any thread; `done` hears the id.
    pub fn submit_finished_job(&self, job: NewJob, outcome: JobOutcome, done: JobWritten) {
        self.job_inserts.submit((job, Some(outcome)), done);
    }

    /// Records a waiting async job (group-committed; other nodes are told); returns its id.
    pub async fn insert_waiting_job(&self, job: NewJob) -> StoreResult<i64> {
        self.job_inserts.write((job, None)).await
    }

    /// Records `node`'s heartbeat.
    pub async fn heartbeat(&self, node: &str, now: i64) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
                 ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                &[&node, &now],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// `node`'s last heartbeat.
    pub async fn node_heartbeat(&self, node: &str) -> StoreResult<Option<i64>> {
        let client = self.client().await?;
        let row = client.query_opt("SELECT heartbeat_at FROM nodes WHERE id = $1", &[&node]).await.map_err(db_error)?;
        row.map(|r| r.try_get(0)).transpose().map_err(db_error)
    }

    /// Forgets `node`: its jobs left executing are reclaimable at once.
    pub async fn remove_node(&self, node: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client.execute("DELETE FROM nodes WHERE id = $1", &[&node]).await.map_err(db_error)?;
        Ok(())
    }

    /// Moves up to `limit` waiting jobs (oldest first, none of the apps in `skip`) to
    /// executing for `node`; rows another node is claiming are skipped, not waited for.
    pub async fn claim_jobs(
        &self,
        node: &str,
        limit: usize,
        skip: &[i64],
        started_at: i64,
    ) -> StoreResult<Vec<JobRecord>> {
        let client = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!(
            "UPDATE jobs SET status = 'executing', started_at = $1, claimed_by = $2 WHERE id IN
                 (SELECT id FROM jobs WHERE status = 'waiting' AND NOT (app_key = ANY($3))
                  ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
             RETURNING {JOB_COLUMNS}"
        );
        let stmt = client.prepare_cached(&sql).await.map_err(db_error)?;
        let rows = client.query(&stmt, &[&started_at, &node, &skip, &limit]).await.map_err(db_error)?;
        let mut jobs = rows.iter().map(job).collect::<StoreResult<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Writes the outcome of a job still executing for `node` (once), with its log.
    pub async fn finish_job(&self, node: &str, id: i64, outcome: JobOutcome) -> StoreResult<()> {
        self.job_ends.write((node.to_string(), id, outcome)).await.map(drop)
    }

    /// Jobs `node` left executing (or claimed before nodes were recorded) go back to waiting.
    pub async fn requeue_own_jobs(&self, node: &str) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE jobs SET status = 'waiting', started_at = NULL, claimed_by = NULL, restarts = restarts + 1
                 WHERE status = 'executing' AND (claimed_by = $1 OR claimed_by IS NULL)",
                &[&node],
            )
            .await
            .map_err(db_error)
    }

    /// Executing jobs of nodes without a heartbeat since `stale_before` (or gone) go back
    /// to waiting.
    pub async fn reclaim_jobs(&self, stale_before: i64) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE jobs SET status = 'waiting', started_at = NULL, claimed_by = NULL, restarts = restarts + 1
                 WHERE status = 'executing' AND claimed_by IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = jobs.claimed_by AND n.heartbeat_at >= $1)",
                &[&stale_before],
            )
            .await
            .map_err(db_error)
    }

    /// How many async jobs wait.
    pub async fn count_waiting(&self) -> StoreResult<i64> {
        let client = self.client().await?;
        let row =
            client.query_one("SELECT COUNT(*) FROM jobs WHERE status = 'waiting'", &[]).await.map_err(db_error)?;
        row.try_get(0).map_err(db_error)
    }

    /// A job of an app.
    pub async fn get_job(&self, app_key: i64, id: i64) -> StoreResult<Option<JobRecord>> {
        let client = self.client().await?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE app_key = $1 AND id = $2");
        let stmt = client.prepare_cached(&sql).await.map_err(db_error)?;
        let row = client.query_opt(&stmt, &[&app_key, &id]).await.map_err(db_error)?;
        row.as_ref().map(job).transpose()
    }

    /// A page of a function's jobs, newest first, and the total.
    pub async fn list_jobs(
        &self,
        function_id: i64,
        filter: JobFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<JobRecord>, i64)> {
        let client = self.client().await?;
        let filters = "function_id = $1 AND ($2::TEXT IS NULL OR source = $2) AND ($3::TEXT IS NULL OR status = $3)
                       AND ($4::TEXT IS NULL OR service_type = $4)";
        let (status, kind) = (filter.status.map(JobStatus::as_str), filter.service_type.map(ServiceType::as_str));
        let args: [&(dyn ToSql + Sync); 4] = [&function_id, &filter.source, &status, &kind];
        let total: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM jobs WHERE {filters}"), &args)
            .await
            .map_err(db_error)?
            .try_get(0)
            .map_err(db_error)?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {filters} ORDER BY id DESC LIMIT $5 OFFSET $6");
        let args: [&(dyn ToSql + Sync); 6] = [&function_id, &filter.source, &status, &kind, &page.limit, &page.offset];
        let rows = client.query(&sql, &args).await.map_err(db_error)?;
        Ok((rows.iter().map(job).collect::<StoreResult<_>>()?, total))
    }

    /// A job's log.
    pub async fn job_log(&self, app_key: i64, id: i64) -> StoreResult<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT COALESCE(j.log, l.text) FROM jobs j LEFT JOIN job_logs l ON l.job_id = j.id
                 WHERE j.app_key = $1 AND j.id = $2",
                &[&app_key, &id],
            )
            .await
            .map_err(db_error)?;
        // Logs are kept in the job's row since migration 8, in `job_logs` before it.
        let log: Option<Option<String>> = row.map(|r| r.try_get(0)).transpose().map_err(db_error)?;
        Ok(log.flatten())
    }
}
