//! The console's overview of an app's latest jobs (see [`crate::JobOverview`]).

use rusqlite::{Connection, params};

use super::rows::decoded;
use crate::{FAILED_STATUSES, FailedJob, JobOverview, JobStatus, OVERVIEW_WINDOW};

/// The app's latest jobs, walked from the newest id (the primary key), at most the window.
const LATEST: &str = "SELECT id, function_id, status, created_at, error_code, error_message FROM jobs \
     WHERE app_key = ?1 ORDER BY id DESC LIMIT ?2";

pub(super) fn job_overview(
    conn: &Connection,
    app_key: i64,
    since: i64,
    failures: i64,
) -> rusqlite::Result<JobOverview> {
    let counts_sql =
        format!("SELECT status, COUNT(*) FROM ({LATEST}) WHERE created_at >= ?3 GROUP BY status ORDER BY status");
    let counts = conn
        .prepare_cached(&counts_sql)?
        .query_map(params![app_key, OVERVIEW_WINDOW, since], |r| {
            Ok((decoded(r, 0, "job status", |s: &String| JobStatus::parse(s))?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let failures_sql = format!(
        "SELECT j.id, f.name, j.status, j.created_at, j.error_code, j.error_message FROM ({LATEST}) j \
         JOIN functions f ON f.id = j.function_id WHERE j.status IN ({FAILED_STATUSES}) ORDER BY j.id DESC LIMIT ?3"
    );
    let failures = conn
        .prepare_cached(&failures_sql)?
        .query_map(params![app_key, OVERVIEW_WINDOW, failures], |r| {
            Ok(FailedJob {
                id: r.get(0)?,
                function: r.get(1)?,
                status: decoded(r, 2, "job status", |s: &String| JobStatus::parse(s))?,
                created_at: r.get(3)?,
                error_code: r.get(4)?,
                error_message: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let scanned = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM ({LATEST})"))?
        .query_row(params![app_key, OVERVIEW_WINDOW], |r| r.get(0))?;
    Ok(JobOverview { counts, failures, scanned })
}
