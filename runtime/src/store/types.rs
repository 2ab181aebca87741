//! The records the store reads and writes.

use serde::Serialize;
use serde_json::Value as Json;

/// A tenant. Every resource belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// The app's integer key (seed 000's `appKey`).
    pub app_key: i64,
    /// A readable name.
    pub name: String,
    /// Creation time, microseconds since the Unix epoch.
    pub created_at: i64,
}

/// What a token grants: the admin, or one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenGrant {
    /// Manage apps and tokens.
    Admin,
    /// Everything within one app.
    App(i64),
}

/// A cloud function and its current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    /// Internal id.
    pub id: i64,
    /// Owning app.
    pub app_key: i64,
    /// Name, unique within the app.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// Plan name: `P_FREE` or `P_PERSONAL`.
    pub plan: String,
    /// Deadline of sync invocations, ms.
    pub sync_timeout_ms: i64,
    /// Deadline of async invocations, ms.
    pub async_timeout_ms: i64,
    /// Current version number (1 at creation, +1 per code change).
    pub version: i64,
    /// sha256 of the current version's module.
    pub module_sha256: String,
    /// Creation time, µs since the epoch.
    pub created_at: i64,
    /// Last change, µs since the epoch.
    pub updated_at: i64,
}

/// A function to create.
#[derive(Debug, Clone)]
pub struct NewFunction {
    /// Owning app.
    pub app_key: i64,
    /// Name.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// Plan name.
    pub plan: String,
    /// Sync deadline, ms.
    pub sync_timeout_ms: i64,
    /// Async deadline, ms.
    pub async_timeout_ms: i64,
    /// The module (already stored with [`super::Store::put_module`]).
    pub module_sha256: String,
    /// Now, µs.
    pub now: i64,
}

/// Changes to a function; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct FunctionUpdate {
    /// New name.
    pub name: Option<String>,
    /// New remark.
    pub remark: Option<String>,
    /// New plan.
    pub plan: Option<String>,
    /// New sync deadline.
    pub sync_timeout_ms: Option<i64>,
    /// New async deadline.
    pub async_timeout_ms: Option<i64>,
    /// New code: a new immutable version.
    pub module_sha256: Option<String>,
    /// Now, µs.
    pub now: i64,
}

/// Job states, as seed 001 spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Accepted, not started.
    Waiting,
    /// Running.
    Executing,
    /// Returned an output.
    Fulfilled,
    /// Trapped, failed, ran out of memory or returned its own error.
    ExecutionFailed,
    /// Passed its deadline.
    DeadlineExceeded,
    /// Refused before running (e.g. the function's code was rejected).
    ExecutionRejected,
    /// Could not be scheduled (e.g. its function was deleted).
    ScheduleFailed,
}

impl JobStatus {
    /// The seed's word for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Executing => "executing",
            Self::Fulfilled => "fulfilled",
            Self::ExecutionFailed => "execution_failed",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::ExecutionRejected => "execution_rejected",
            Self::ScheduleFailed => "schedule_failed",
        }
    }

    /// Parses the seed's word.
    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Executing,
            Self::Fulfilled,
            Self::ExecutionFailed,
            Self::DeadlineExceeded,
            Self::ExecutionRejected,
            Self::ScheduleFailed,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Waiting | Self::Executing)
    }
}

/// One invocation of a function, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Job id.
    pub id: i64,
    /// Owning app.
    pub app_key: i64,
    /// The function's id.
    pub function_id: i64,
    /// The function version that ran.
    pub version: i64,
    /// The module of that version.
    pub module_sha256: String,
    /// Memory cap it runs under, bytes (from the function's plan when accepted).
    pub memory_limit: i64,
    /// Where the call came from (`open_api`, `sdk`, `cloud_function`, `timer`, ...).
    pub source: String,
    /// `time_sensitive` (sync) or `batch` (async).
    pub service_type: String,
    /// Where it is.
    pub status: JobStatus,
    /// The input.
    pub input: Json,
    /// The output, when fulfilled.
    pub output: Option<Json>,
    /// Error code, when failed.
    pub error_code: Option<String>,
    /// Error message, when failed.
    pub error_message: Option<String>,
    /// Peak linear memory, bytes.
    pub mem_usage: i64,
    /// The deadline it runs under, ms.
    pub timeout_ms: i64,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub started_at: Option<i64>,
    /// µs since the epoch.
    pub finished_at: Option<i64>,
}

/// A job to record.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Owning app.
    pub app_key: i64,
    /// The function's id.
    pub function_id: i64,
    /// Version to run.
    pub version: i64,
    /// The module of that version.
    pub module_sha256: String,
    /// Memory cap, bytes.
    pub memory_limit: i64,
    /// Where the call came from.
    pub source: String,
    /// `time_sensitive` or `batch`.
    pub service_type: String,
    /// The input.
    pub input: Json,
    /// Deadline, ms.
    pub timeout_ms: i64,
    /// µs since the epoch.
    pub created_at: i64,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// A terminal status.
    pub status: JobStatus,
    /// The output, when fulfilled.
    pub output: Option<Json>,
    /// Error code.
    pub error_code: Option<String>,
    /// Error message.
    pub error_message: Option<String>,
    /// Peak memory, bytes.
    pub mem_usage: i64,
    /// µs since the epoch.
    pub started_at: i64,
    /// µs since the epoch.
    pub finished_at: i64,
    /// The captured log.
    pub log: String,
}

/// Filters of a job list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this service type.
    pub service_type: Option<String>,
}

/// A page: at most `limit` rows after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl JobRecord {
    /// The record a finished job has after [`super::Store::insert_finished_job`] stored it as `id`.
    pub fn finished(id: i64, job: &NewJob, outcome: &JobOutcome) -> Self {
        Self {
            id,
            app_key: job.app_key,
            function_id: job.function_id,
            version: job.version,
            module_sha256: job.module_sha256.clone(),
            memory_limit: job.memory_limit,
            source: job.source.clone(),
            service_type: job.service_type.clone(),
            status: outcome.status,
            input: job.input.clone(),
            output: outcome.output.clone(),
            error_code: outcome.error_code.clone(),
            error_message: outcome.error_message.clone(),
            mem_usage: outcome.mem_usage,
            timeout_ms: job.timeout_ms,
            created_at: job.created_at,
            started_at: Some(outcome.started_at),
            finished_at: Some(outcome.finished_at),
        }
    }
}
