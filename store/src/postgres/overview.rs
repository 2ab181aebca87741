//! The console's overview of an app's latest jobs (see [`crate::JobOverview`]).

use super::PgStore;
use super::errors::db_error;
use crate::{FAILED_STATUSES, FailedJob, JobOverview, JobStatus, OVERVIEW_WINDOW, StoreError, StoreResult};

/// The app's latest jobs, walked from the newest id (the primary key), at most the window.
const LATEST: &str = "SELECT id, function_id, status, created_at, error_code, error_message FROM jobs \
     WHERE app_key = $1 ORDER BY id DESC LIMIT $2";

fn status(stored: &str) -> StoreResult<JobStatus> {
    JobStatus::parse(stored).ok_or_else(|| StoreError::Database(format!("unknown job status {stored:?}")))
}

impl PgStore {
    /// The app's latest jobs at a glance.
    pub async fn job_overview(&self, app_key: i64, since: i64, failures: i64) -> StoreResult<JobOverview> {
        let client = self.client().await?;
        let counts_sql = format!(
            "SELECT status, COUNT(*) FROM ({LATEST}) latest WHERE created_at >= $3 GROUP BY status ORDER BY status"
        );
        let rows = client.query(&counts_sql, &[&app_key, &OVERVIEW_WINDOW, &since]).await.map_err(db_error)?;
        let counts = rows
            .iter()
            .map(|r| Ok((status(r.try_get(0).map_err(db_error)?)?, r.try_get(1).map_err(db_error)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let failures_sql = format!(
            "SELECT j.id, f.name, j.status, j.created_at, j.error_code, j.error_message FROM ({LATEST}) j \
             JOIN functions f ON f.id = j.function_id WHERE j.status IN ({FAILED_STATUSES}) ORDER BY j.id DESC LIMIT $3"
        );
        let rows = client.query(&failures_sql, &[&app_key, &OVERVIEW_WINDOW, &failures]).await.map_err(db_error)?;
        let failures = rows
            .iter()
            .map(|r| {
                Ok(FailedJob {
                    id: r.try_get(0).map_err(db_error)?,
                    function: r.try_get(1).map_err(db_error)?,
                    status: status(r.try_get(2).map_err(db_error)?)?,
                    created_at: r.try_get(3).map_err(db_error)?,
                    error_code: r.try_get(4).map_err(db_error)?,
                    error_message: r.try_get(5).map_err(db_error)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let scanned: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM ({LATEST}) latest"), &[&app_key, &OVERVIEW_WINDOW])
            .await
            .map_err(db_error)?
            .try_get(0)
            .map_err(db_error)?;
        Ok(JobOverview { counts, failures, scanned })
    }
}
