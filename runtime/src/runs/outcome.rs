//! How an invocation's report becomes a job's terminal record.

use crate::engine::{EngineError, Invocation};
use crate::store::{FailedStatus, JobEnd, JobFailure, JobOutcome};

/// The job outcome of `inv`, which started at `started_at` (µs since the epoch).
pub(crate) fn job_outcome(inv: Invocation, started_at: i64) -> JobOutcome {
    let finished_at = started_at + i64::try_from(inv.duration.as_micros()).unwrap_or(i64::MAX / 2);
    let mem_usage = i64::try_from(inv.peak_memory_bytes).unwrap_or(i64::MAX);
    let result =
        inv.result.map_err(|error| JobFailure::new(status_of(&error), error_code(&error), error_message(error)));
    JobOutcome { end: JobEnd { result, mem_usage, started_at, finished_at }, log: inv.log.text }
}

/// The terminal status a failed invocation gets.
pub(crate) fn status_of(error: &EngineError) -> FailedStatus {
    match error {
        EngineError::DeadlineExceeded { .. } => FailedStatus::DeadlineExceeded,
        EngineError::Busy(_) => FailedStatus::ScheduleFailed,
        e if e.is_load_error() => FailedStatus::ExecutionRejected,
        _ => FailedStatus::ExecutionFailed,
    }
}

/// The error code recorded with a failed job: the guest's own, or the engine's kind.
pub(crate) fn error_code(error: &EngineError) -> String {
    match error {
        EngineError::Guest { code, .. } => code.clone(),
        EngineError::DeadlineExceeded { .. } => "DeadlineExceeded".into(),
        EngineError::MemoryLimitExceeded { .. } => "MemoryLimitExceeded".into(),
        EngineError::Trap { .. } => "Trap".into(),
        EngineError::Busy(_) => "ResourceThrottled".into(),
        e if e.is_load_error() => "InvalidModule".into(),
        _ => "InternalError".into(),
    }
}

/// The message recorded with a failed job: the guest's own words for its own error (its
/// code is recorded beside it), the engine's description otherwise.
pub(crate) fn error_message(error: EngineError) -> String {
    match error {
        EngineError::Guest { message, .. } => message,
        other => other.to_string(),
    }
}

/// The outcome of a job that could not run at all (e.g. its module is gone).
pub(crate) fn not_run(status: FailedStatus, code: &str, message: String, at: i64) -> JobOutcome {
    let result = Err(JobFailure::new(status, code, message));
    JobOutcome { end: JobEnd { result, mem_usage: 0, started_at: at, finished_at: at }, log: String::new() }
}
