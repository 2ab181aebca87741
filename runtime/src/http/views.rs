//! JSON shapes of the native API. Times are Unix epoch seconds with fractions, as in
//! seed 001, so both APIs agree.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use crate::store::{FunctionRecord, JobFilter, JobRecord, PageRequest, ServiceType};

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 1000;

/// µs since the epoch as seconds.
pub fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

/// A function as the native API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunctionView {
    /// Name, unique within the app.
    pub name: String,
    /// Free text.
    pub remark: String,
    /// `P_FREE` (128 MiB) or `P_PERSONAL` (256 MiB).
    pub plan: String,
    /// Deadline of sync invocations, ms.
    pub sync_timeout_ms: i64,
    /// Deadline of async invocations, ms.
    pub async_timeout_ms: i64,
    /// Current version: 1 at creation, +1 per code change.
    pub version: i64,
    /// sha256 of the current version's module.
    pub module_sha256: String,
    /// Which compiler's code of the current version this node runs: `baseline` (Winch's,
    /// while Cranelift compiles a large component in the background) or `optimized`;
    /// `null` when this node has not loaded it yet.
    pub code_tier: Option<&'static str>,
    /// Epoch seconds.
    pub created_at: f64,
    /// Epoch seconds.
    pub updated_at: f64,
}

impl From<&FunctionRecord> for FunctionView {
    fn from(f: &FunctionRecord) -> Self {
        Self {
            name: f.name.clone(),
            remark: f.remark.clone(),
            plan: f.plan.name().to_string(),
            sync_timeout_ms: f.sync_timeout_ms,
            async_timeout_ms: f.async_timeout_ms,
            version: f.version,
            module_sha256: f.module_sha256.clone(),
            code_tier: None,
            created_at: seconds(f.created_at),
            updated_at: seconds(f.updated_at),
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobErrorView {
    /// `DeadlineExceeded`, `MemoryLimitExceeded`, `Trap`, `InvalidModule`, or the guest's own code.
    pub code: String,
    /// What happened.
    pub message: Option<String>,
}

/// A job as the native API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: i64,
    /// Function version that ran.
    pub version: i64,
    /// `open_api`, `sdk`, `cloud_function`, `timer`, ...
    pub source: String,
    /// `time_sensitive` (sync) or `batch` (async).
    pub service_type: String,
    /// `waiting`, `executing`, `fulfilled`, `execution_failed`, `deadline_exceeded`, `execution_rejected`, `schedule_failed`.
    pub status: String,
    /// The input.
    #[schema(value_type = Value)]
    pub input: Json,
    /// The output, when fulfilled.
    #[schema(value_type = Value)]
    pub output: Option<Json>,
    /// Why it failed.
    pub error: Option<JobErrorView>,
    /// Peak linear memory, bytes.
    pub mem_usage: i64,
    /// Deadline, ms.
    pub timeout_ms: i64,
    /// Epoch seconds.
    pub created_at: f64,
    /// Epoch seconds.
    pub started_at: Option<f64>,
    /// Epoch seconds.
    pub finished_at: Option<f64>,
    /// How often it started again from the beginning because the node running it stopped.
    pub restarts: i64,
    /// The node that ran it (async jobs, when several nodes share one database).
    pub node: Option<String>,
    /// Where the captured log is.
    pub log_url: String,
}

impl From<&JobRecord> for JobView {
    fn from(j: &JobRecord) -> Self {
        let end = j.state.end();
        Self {
            id: j.id,
            version: j.version,
            source: j.source.clone(),
            service_type: j.service_type.as_str().to_string(),
            status: j.status().as_str().to_string(),
            input: j.input.clone(),
            output: end.and_then(|e| e.result.as_ref().ok()).cloned(),
            error: end
                .and_then(|e| e.failure())
                .map(|f| JobErrorView { code: f.code.clone(), message: Some(f.message.clone()) }),
            mem_usage: end.map_or(0, |e| e.mem_usage),
            timeout_ms: j.timeout_ms,
            created_at: seconds(j.created_at),
            started_at: j.state.started_at().map(seconds),
            finished_at: end.map(|e| seconds(e.finished_at)),
            restarts: j.restarts,
            node: j.node.clone(),
            log_url: format!("/v1/jobs/{}/log", j.id),
        }
    }
}

/// An accepted async invocation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedView {
    /// The job's id.
    pub job_id: i64,
    /// Always `waiting`.
    pub status: String,
    /// Where to follow it.
    pub job_url: String,
}

/// The error body of every failed request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorView {
    /// `InvalidArgument`, `Unauthorized`, `AccessDenied`, `FunctionNotExists`, `FunctionAlreadyExists`,
    /// `EntityTooLarge`, `ResourceThrottled`, `InternalServerError`, ...
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// `?limit=&offset=` of list endpoints.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Rows per page (default 20, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Rows skipped.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl Paging {
    /// The page, checked.
    pub fn page(self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        let offset = self.offset.unwrap_or(0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        if offset < 0 {
            return Err(ApiError::invalid("offset must not be negative"));
        }
        Ok(PageRequest { limit, offset })
    }
}

/// `?source=&status=&service_type=&limit=&offset=` of job lists.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only this source.
    pub source: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this service type.
    pub service_type: Option<String>,
    /// Page size (default 20, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Rows skipped.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl JobQuery {
    /// The filter and page, checked.
    pub fn split(self) -> Result<(JobFilter, PageRequest), ApiError> {
        let status = match &self.status {
            None => None,
            Some(name) => Some(
                crate::store::JobStatus::parse(name)
                    .ok_or_else(|| ApiError::invalid(format!("unknown job status {name:?}")))?,
            ),
        };
        let service_type = match &self.service_type {
            None => None,
            Some(kind) => Some(ServiceType::parse(kind).ok_or_else(|| {
                ApiError::invalid(format!("unknown service_type {kind:?}: use time_sensitive or batch"))
            })?),
        };
        let page = Paging { limit: self.limit, offset: self.offset }.page()?;
        Ok((JobFilter { source: self.source, status, service_type }, page))
    }
}

/// A page of functions.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionPage {
    /// The functions, by name.
    pub items: Vec<FunctionView>,
    /// All functions of the app.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// A page of jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    /// The jobs, newest first.
    pub items: Vec<JobView>,
    /// All matching jobs.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}
