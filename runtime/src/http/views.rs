//! JSON shapes of the native API. Times are Unix epoch seconds with fractions, as in
//! seed 001, so both APIs agree.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::error::ApiError;
use crate::store::{FunctionRecord, JobFilter, JobRecord, PageRequest};

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 1000;

/// µs since the epoch as seconds.
pub fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

/// A function as the native API shows it.
pub fn function(f: &FunctionRecord) -> Json {
    json!({
        "name": f.name,
        "remark": f.remark,
        "plan": f.plan,
        "sync_timeout_ms": f.sync_timeout_ms,
        "async_timeout_ms": f.async_timeout_ms,
        "version": f.version,
        "module_sha256": f.module_sha256,
        "created_at": seconds(f.created_at),
        "updated_at": seconds(f.updated_at),
    })
}

/// A job as the native API shows it.
pub fn job(j: &JobRecord) -> Json {
    let error = j.error_code.as_ref().map(|code| json!({"code": code, "message": j.error_message}));
    json!({
        "id": j.id,
        "version": j.version,
        "source": j.source,
        "service_type": j.service_type,
        "status": j.status.as_str(),
        "input": j.input,
        "output": j.output,
        "error": error,
        "mem_usage": j.mem_usage,
        "timeout_ms": j.timeout_ms,
        "created_at": seconds(j.created_at),
        "started_at": j.started_at.map(seconds),
        "finished_at": j.finished_at.map(seconds),
        "log_url": format!("/v1/jobs/{}/log", j.id),
    })
}

/// `?limit=&offset=` of list endpoints.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Paging {
    /// Rows per page (default 20, at most 1000).
    pub limit: Option<i64>,
    /// Rows skipped.
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
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobQuery {
    /// Only this source.
    pub source: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this service type.
    pub service_type: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

impl JobQuery {
    /// The filter and page, checked.
    pub fn split(self) -> Result<(JobFilter, PageRequest), ApiError> {
        if let Some(status) = &self.status
            && crate::store::JobStatus::parse(status).is_none()
        {
            return Err(ApiError::invalid(format!("unknown job status {status:?}")));
        }
        if let Some(kind) = &self.service_type
            && kind != "time_sensitive"
            && kind != "batch"
        {
            return Err(ApiError::invalid(format!("unknown service_type {kind:?}: use time_sensitive or batch")));
        }
        let page = Paging { limit: self.limit, offset: self.offset }.page()?;
        Ok((JobFilter { source: self.source, status: self.status, service_type: self.service_type }, page))
    }
}

/// A page of items with its total, for native list endpoints.
#[derive(Debug, Serialize)]
pub struct ListPage {
    /// The items.
    pub items: Vec<Json>,
    /// All matching items.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}
