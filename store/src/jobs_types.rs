//! Job records, typed by where the job is: a waiting job has no start, an executing one
//! has a start and no end, a finished one has its whole end (an output, or a failure with
//! its code and message), the way Restate's `InvocationStatus` carries only what each
//! state has. Rows are decoded into these at the store edge and refused when they do not
//! fit ([`JobState::from_columns`]).

use serde::Serialize;
use serde_json::Value as Json;

/// How a job was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    /// A sync invocation: the caller waits.
    TimeSensitive,
    /// An async job: accepted, run by the dispatcher.
    Batch,
}

impl ServiceType {
    /// The seed's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TimeSensitive => "time_sensitive",
            Self::Batch => "batch",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::TimeSensitive, Self::Batch].into_iter().find(|s| s.as_str() == text)
    }
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

/// The statuses a job can fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedStatus {
    /// Trapped, failed, ran out of memory or returned its own error.
    ExecutionFailed,
    /// Passed its deadline.
    DeadlineExceeded,
    /// Refused before running (e.g. the function's code was rejected).
    ExecutionRejected,
    /// Could not be scheduled (e.g. its function was deleted).
    ScheduleFailed,
}

impl FailedStatus {
    /// The job status it is.
    pub fn status(self) -> JobStatus {
        match self {
            Self::ExecutionFailed => JobStatus::ExecutionFailed,
            Self::DeadlineExceeded => JobStatus::DeadlineExceeded,
            Self::ExecutionRejected => JobStatus::ExecutionRejected,
            Self::ScheduleFailed => JobStatus::ScheduleFailed,
        }
    }

    /// The failing status `status` is, if it is one.
    pub fn of(status: JobStatus) -> Option<Self> {
        match status {
            JobStatus::ExecutionFailed => Some(Self::ExecutionFailed),
            JobStatus::DeadlineExceeded => Some(Self::DeadlineExceeded),
            JobStatus::ExecutionRejected => Some(Self::ExecutionRejected),
            JobStatus::ScheduleFailed => Some(Self::ScheduleFailed),
            JobStatus::Waiting | JobStatus::Executing | JobStatus::Fulfilled => None,
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// Which failing status.
    pub status: FailedStatus,
    /// The guest's own code, or the engine's kind (`DeadlineExceeded`, `Trap`, ...).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

impl JobFailure {
    /// A failure with `status`, `code` and `message`.
    pub fn new(status: FailedStatus, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into() }
    }
}

/// How a job ended: its output or its failure, its peak memory and its times.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnd {
    /// The output (`fulfilled`), or why it failed.
    pub result: Result<Json, JobFailure>,
    /// Peak linear memory, bytes.
    pub mem_usage: i64,
    /// µs since the epoch.
    pub started_at: i64,
    /// µs since the epoch.
    pub finished_at: i64,
}

impl JobEnd {
    /// The terminal status.
    pub fn status(&self) -> JobStatus {
        match &self.result {
            Ok(_) => JobStatus::Fulfilled,
            Err(failure) => failure.status.status(),
        }
    }

    /// The failure, when it failed.
    pub fn failure(&self) -> Option<&JobFailure> {
        self.result.as_ref().err()
    }
}

/// Where a job is, with what is known there and nothing more.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Accepted, not started.
    Waiting,
    /// Running since `started_at` (µs since the epoch).
    Executing {
        /// µs since the epoch.
        started_at: i64,
    },
    /// Ended.
    Finished(JobEnd),
}

/// A job row's state columns, as stored.
#[derive(Debug, Default)]
pub struct StateColumns {
    /// `status`.
    pub status: String,
    /// `output`, JSON.
    pub output: Option<Json>,
    /// `error_code`.
    pub error_code: Option<String>,
    /// `error_message`.
    pub error_message: Option<String>,
    /// `mem_usage`.
    pub mem_usage: i64,
    /// `started_at`.
    pub started_at: Option<i64>,
    /// `finished_at`.
    pub finished_at: Option<i64>,
}

impl JobState {
    /// The status.
    pub fn status(&self) -> JobStatus {
        match self {
            Self::Waiting => JobStatus::Waiting,
            Self::Executing { .. } => JobStatus::Executing,
            Self::Finished(end) => end.status(),
        }
    }

    /// When it started, once it has.
    pub fn started_at(&self) -> Option<i64> {
        match self {
            Self::Waiting => None,
            Self::Executing { started_at } => Some(*started_at),
            Self::Finished(end) => Some(end.started_at),
        }
    }

    /// How it ended, once it has.
    pub fn end(&self) -> Option<&JobEnd> {
        match self {
            Self::Finished(end) => Some(end),
            _ => None,
        }
    }

    /// The state stored columns describe, or why they describe none: an unknown status,
    /// a start or an end missing where the status needs one, a fulfilled job without an
    /// output, a failed one without its code.
    pub fn from_columns(c: StateColumns) -> Result<Self, String> {
        let status = JobStatus::parse(&c.status).ok_or_else(|| format!("unknown job status {:?}", c.status))?;
        let missing = |what: &str| format!("{} job without {what}", status.as_str());
        match status {
            JobStatus::Waiting => Ok(Self::Waiting),
            JobStatus::Executing => {
                Ok(Self::Executing { started_at: c.started_at.ok_or_else(|| missing("its start"))? })
            }
            _ => {
                let result = match FailedStatus::of(status) {
                    None => Ok(c.output.ok_or_else(|| missing("an output"))?),
                    Some(failed) => Err(JobFailure {
                        status: failed,
                        code: c.error_code.ok_or_else(|| missing("an error code"))?,
                        message: c.error_message.unwrap_or_default(),
                    }),
                };
                let finished_at = c.finished_at.ok_or_else(|| missing("its end"))?;
                Ok(Self::Finished(JobEnd {
                    result,
                    mem_usage: c.mem_usage,
                    // A job refused before it was claimed has no start of its own.
                    started_at: c.started_at.unwrap_or(finished_at),
                    finished_at,
                }))
            }
        }
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
    /// Sync (`time_sensitive`) or async (`batch`).
    pub service_type: ServiceType,
    /// The input.
    pub input: Json,
    /// The deadline it runs under, ms.
    pub timeout_ms: i64,
    /// µs since the epoch.
    pub created_at: i64,
    /// Where it is, with what is known there.
    pub state: JobState,
    /// How often it went back to waiting because the node running it stopped (so it
    /// started again from the beginning).
    pub restarts: i64,
    /// The node that claimed it last (async jobs; kept once it ended).
    pub node: Option<String>,
}

impl JobRecord {
    /// The record a finished job has after [`super::Store::insert_finished_job`] stored
    /// it as `id`.
    pub fn finished(id: i64, job: &NewJob, outcome: &JobOutcome) -> Self {
        Self {
            id,
            app_key: job.app_key,
            function_id: job.function_id,
            version: job.version,
            module_sha256: job.module_sha256.clone(),
            memory_limit: job.memory_limit,
            restarts: 0,
            node: None,
            source: job.source.clone(),
            service_type: job.service_type,
            input: job.input.clone(),
            timeout_ms: job.timeout_ms,
            created_at: job.created_at,
            state: JobState::Finished(outcome.end.clone()),
        }
    }

    /// Where it is.
    pub fn status(&self) -> JobStatus {
        self.state.status()
    }
}

impl From<JobRecord> for NewJob {
    /// The job as it was accepted (a claimed job runs from it).
    fn from(j: JobRecord) -> Self {
        Self {
            app_key: j.app_key,
            function_id: j.function_id,
            version: j.version,
            module_sha256: j.module_sha256,
            memory_limit: j.memory_limit,
            source: j.source,
            service_type: j.service_type,
            input: j.input,
            timeout_ms: j.timeout_ms,
            created_at: j.created_at,
        }
    }
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
    /// Sync (`time_sensitive`) or async (`batch`).
    pub service_type: ServiceType,
    /// The input.
    pub input: Json,
    /// Deadline, ms.
    pub timeout_ms: i64,
    /// µs since the epoch.
    pub created_at: i64,
}

/// How a job ended, with its captured log (stored apart from the record).
#[derive(Debug, Clone)]
pub struct JobOutcome {
    /// The end.
    pub end: JobEnd,
    /// The captured log.
    pub log: String,
}

impl JobOutcome {
    /// The terminal status.
    pub fn status(&self) -> JobStatus {
        self.end.status()
    }

    /// The error code, when it failed.
    pub fn error_code(&self) -> Option<&str> {
        self.end.failure().map(|f| f.code.as_str())
    }
}

/// Filters of a job list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Only this service type.
    pub service_type: Option<ServiceType>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn columns(status: &str) -> StateColumns {
        StateColumns { status: status.into(), ..StateColumns::default() }
    }

    #[test]
    fn stored_columns_become_the_state_they_describe() {
        assert_eq!(JobState::from_columns(columns("waiting")), Ok(JobState::Waiting));
        let executing = StateColumns { started_at: Some(5), ..columns("executing") };
        assert_eq!(JobState::from_columns(executing), Ok(JobState::Executing { started_at: 5 }));
        let done =
            StateColumns { output: Some(json!(1)), started_at: Some(5), finished_at: Some(9), ..columns("fulfilled") };
        let state = JobState::from_columns(done).unwrap();
        assert_eq!(state.status(), JobStatus::Fulfilled);
        assert_eq!(state.end().map(|e| (&e.result, e.finished_at)), Some((&Ok(json!(1)), 9)));
        let failed = StateColumns {
            error_code: Some("Trap".into()),
            error_message: Some("unreachable".into()),
            finished_at: Some(9),
            ..columns("execution_failed")
        };
        let end = JobState::from_columns(failed).unwrap();
        assert_eq!(end.status(), JobStatus::ExecutionFailed);
        assert_eq!(end.started_at(), Some(9), "a job that never started ends where it starts");
    }

    #[test]
    fn columns_that_do_not_fit_their_status_are_refused_and_named() {
        let cases = [
            (columns("sleeping"), "unknown job status \"sleeping\""),
            (columns("executing"), "executing job without its start"),
            (StateColumns { finished_at: Some(1), ..columns("fulfilled") }, "fulfilled job without an output"),
            (StateColumns { output: Some(json!(1)), ..columns("fulfilled") }, "fulfilled job without its end"),
            (StateColumns { finished_at: Some(1), ..columns("deadline_exceeded") }, "without an error code"),
        ];
        for (columns, expected) in cases {
            let error = JobState::from_columns(columns).unwrap_err();
            assert!(error.contains(expected), "{error} should say {expected}");
        }
    }
}
