//! The one entry point of a function's guest run, whoever asks: build the job the run
//! records, run it on this thread under the job's limits, turn the report into the job's
//! outcome and count it under its caller. The HTTP invoke, the async dispatcher, a flow
//! task and a bin's function call all end here; they differ only in how they get a slot
//! and where the record goes.

use std::time::Duration;

use serde_json::Value as Json;

use super::metrics::Metrics;
use super::outcome::job_outcome;
use crate::engine::{CallError, DEFAULT_LOG_BYTES, Engine, FunctionModule, Invocation, Limits};
use crate::functions::millis;
use crate::local::call_error;
use crate::store::{FunctionRecord, JobOutcome, NewJob, ServiceType};
use crate::time::now_us;

/// Who asked for a guest run: its `caller` label in `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A sync call (HTTP invoke, seed 001's sync trigger).
    Invoke,
    /// An async job, run by the dispatcher.
    Job,
    /// A flow's function task.
    Flow,
    /// A bin instance's run.
    Bin,
    /// A function a bin's run called by its key.
    BinCall,
}

impl Caller {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoke => "invoke",
            Self::Job => "job",
            Self::Flow => "flow",
            Self::Bin => "bin",
            Self::BinCall => "bin_call",
        }
    }
}

/// Runs `job` with `module` on this thread, now, under the job's limits with its deadline
/// cut to `within` when given (what is left of a sync call's deadline after its wait for
/// a slot), and counts it under `caller`.
pub(crate) fn run_job(
    engine: &Engine,
    metrics: &Metrics,
    module: &FunctionModule,
    job: &NewJob,
    caller: Caller,
    within: Option<Duration>,
) -> JobOutcome {
    let (inv, started_at) = invoke(engine, module, job, within);
    finish(metrics, caller, job, inv, started_at)
}

/// [`run_job`] for a function a bin calls (counted as [`Caller::BinCall`]), with the
/// result as the calling guest sees it: the output, the callee's own error as it raised
/// it, anything else as `FunctionFailed` with the engine's message.
pub(crate) fn run_call(
    engine: &Engine,
    metrics: &Metrics,
    module: &FunctionModule,
    job: &NewJob,
) -> (JobOutcome, Result<Json, CallError>) {
    let (inv, started_at) = invoke(engine, module, job, None);
    let result = inv.result.clone().map_err(call_error);
    (finish(metrics, Caller::BinCall, job, inv, started_at), result)
}

fn invoke(engine: &Engine, module: &FunctionModule, job: &NewJob, within: Option<Duration>) -> (Invocation, i64) {
    let mut limits = limits_of(job.memory_limit, job.timeout_ms);
    if let Some(within) = within {
        limits.timeout = limits.timeout.min(within);
    }
    let started_at = now_us();
    (engine.invoke(module, &job.input, &limits), started_at)
}

fn finish(metrics: &Metrics, caller: Caller, job: &NewJob, inv: Invocation, started_at: i64) -> JobOutcome {
    let outcome = job_outcome(inv, started_at);
    count_job(metrics, caller, job.service_type, &outcome);
    outcome
}

/// The limits a job's record says it runs under.
pub(crate) fn limits_of(memory_limit: i64, timeout_ms: i64) -> Limits {
    Limits {
        memory_bytes: u64::try_from(memory_limit).unwrap_or(0),
        timeout: millis(timeout_ms),
        log_bytes: DEFAULT_LOG_BYTES,
    }
}

/// A job of `function` as accepted now: sync (`time_sensitive`) or async (`batch`).
pub(crate) fn new_job(app_key: i64, function: &FunctionRecord, input: Json, source: &str, sync: bool) -> NewJob {
    NewJob {
        app_key,
        function_id: function.id,
        version: function.version,
        module_sha256: function.module_sha256.clone(),
        memory_limit: i64::try_from(function.plan.memory_bytes()).unwrap_or(i64::MAX),
        source: source.to_string(),
        service_type: if sync { ServiceType::TimeSensitive } else { ServiceType::Batch },
        input,
        timeout_ms: if sync { function.sync_timeout_ms } else { function.async_timeout_ms },
        created_at: now_us(),
    }
}

/// Counts a finished function run in `metrics`.
pub(crate) fn count_job(metrics: &Metrics, caller: Caller, service_type: ServiceType, outcome: &JobOutcome) {
    let seconds = (outcome.end.finished_at - outcome.end.started_at) as f64 / 1e6;
    metrics.invocation(caller, service_type, outcome.status(), outcome.error_code(), seconds);
}
