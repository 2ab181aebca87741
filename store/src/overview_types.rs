//! An app's recent jobs at a glance (the console's overview): counts by status since a
//! time, and the latest failures. Both look only at the app's latest jobs (a bounded
//! window walked from the newest id), so the overview costs the same however many jobs
//! the store holds, and the hot jobs table needs no index of its own for it.

use crate::JobStatus;

/// How many of an app's latest jobs the overview looks at.
pub const OVERVIEW_WINDOW: i64 = 10_000;

/// A failed job as the overview lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedJob {
    /// The job's id.
    pub id: i64,
    /// Its function's name.
    pub function: String,
    /// How it failed.
    pub status: JobStatus,
    /// µs since the epoch.
    pub created_at: i64,
    /// The error's code (`DeadlineExceeded`, `Trap`, the guest's own code, ...).
    pub error_code: Option<String>,
    /// The error's message.
    pub error_message: Option<String>,
}

/// The overview of an app's jobs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOverview {
    /// Jobs created since the given time, by status (statuses with none are left out).
    pub counts: Vec<(JobStatus, i64)>,
    /// The latest failed jobs, newest first.
    pub failures: Vec<FailedJob>,
    /// How many jobs were looked at (at most [`OVERVIEW_WINDOW`]): when it is the window,
    /// older jobs were not counted.
    pub scanned: i64,
}

/// The statuses a failure has, as stored.
pub const FAILED_STATUSES: &str = "'execution_failed', 'deadline_exceeded', 'execution_rejected', 'schedule_failed'";
