//! How a bin's `functionKey` calls reach an app's functions: the app's bindings map a
//! key to one of its cloud functions (run in-process, with its own job record, source
//! `bin`) or to an HTTP endpoint (POSTed seed 000's `{executeInstanceId, functionKey,
//! paramsList}`; the response body is the return value).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tokio::runtime::Handle;

use crate::engine::{CallError, DEFAULT_LOG_BYTES, Engine, FunctionCall, FunctionResolver, Limits, TypedValue};
use crate::functions::jobs::count_job;
use crate::functions::{Executor, Functions, millis, outcome, plan_memory};
use crate::local::call_error;
use crate::store::{BindingTarget, NewJob, Store};
use crate::time::now_us;

/// Longest an HTTP endpoint may take to answer one call.
const MAX_ENDPOINT_TIMEOUT: Duration = Duration::from_secs(30);

/// The job source of functions called by bins.
pub const SOURCE_BIN: &str = "bin";

/// An app's bindings, resolved on the run's blocking thread.
pub(super) struct AppResolver {
    pub(super) app_key: i64,
    pub(super) bindings: HashMap<String, BindingTarget>,
    pub(super) functions: Functions,
    pub(super) engine: Engine,
    pub(super) store: std::sync::Arc<dyn Store>,
    pub(super) handle: Handle,
    pub(super) agent: ureq::Agent,
    /// Where the calls are counted.
    pub(super) executor: std::sync::Arc<Executor>,
}

impl FunctionResolver for AppResolver {
    fn call(&self, call: &FunctionCall<'_>) -> Result<Json, CallError> {
        let target = self.bindings.get(call.function_key).ok_or_else(|| {
            CallError::new(
                "NotBound",
                format!("no function or URL is bound to key {:?} in this app", call.function_key),
            )
        })?;
        let remaining = call.deadline.saturating_duration_since(Instant::now());
        match target {
            BindingTarget::Function(name) => self.call_function(name, call, remaining),
            BindingTarget::Url(url) => call_url(&self.agent, url, call, remaining),
        }
    }
}

impl AppResolver {
    fn call_function(&self, name: &str, call: &FunctionCall<'_>, remaining: Duration) -> Result<Json, CallError> {
        let not_found = |e: crate::error::ServiceError| CallError::new("FunctionFailed", e.to_string());
        let function = self.handle.block_on(self.functions.get(self.app_key, name)).map_err(not_found)?;
        let module = self.handle.block_on(self.functions.module(&function.module_sha256)).map_err(not_found)?;
        let limits = Limits {
            memory_bytes: plan_memory(&function.plan),
            timeout: millis(function.sync_timeout_ms).min(remaining),
            log_bytes: DEFAULT_LOG_BYTES,
        };
        let input = Json::Array(call.params.to_vec());
        let started_at = now_us();
        let inv = self.engine.invoke(&module, &input, &limits);
        let result = inv.result.clone();
        let job = NewJob {
            app_key: self.app_key,
            function_id: function.id,
            version: function.version,
            module_sha256: function.module_sha256.clone(),
            memory_limit: i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX),
            source: SOURCE_BIN.into(),
            service_type: "time_sensitive".into(),
            input,
            timeout_ms: i64::try_from(limits.timeout.as_millis()).unwrap_or(i64::MAX),
            created_at: started_at,
        };
        let record = outcome::job_outcome(inv, started_at);
        count_job(self.executor.metrics(), "bin_call", &job.service_type, &record);
        if let Err(error) = self.handle.block_on(self.store.insert_finished_job(job, record)) {
            tracing::error!(%error, "recording a bin's function call failed");
        }
        result.map_err(call_error)
    }
}

/// POSTs the call to `url`; the answer's JSON body is the return value.
fn call_url(agent: &ureq::Agent, url: &str, call: &FunctionCall<'_>, remaining: Duration) -> Result<Json, CallError> {
    if remaining.is_zero() {
        return Err(CallError::new("DeadlineExceeded", "the caller's deadline has passed"));
    }
    let params: Vec<TypedValue> = call.params.iter().cloned().map(TypedValue::infer).collect();
    let body = json!({"executeInstanceId": call.instance_id, "functionKey": call.function_key, "paramsList": params});
    // Leave the bin a tenth of its remaining time to handle a timeout as an error.
    let timeout = remaining.saturating_sub(remaining / 10).min(MAX_ENDPOINT_TIMEOUT);
    let mut response = agent
        .post(url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .header("content-type", "application/json")
        .send(body.to_string())
        .map_err(|e| CallError::new("EndpointUnreachable", format!("POST {url}: {e}")))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| CallError::new("EndpointFailed", format!("reading the answer of {url}: {e}")))?;
    if !status.is_success() {
        return Err(CallError::new("EndpointFailed", format!("{url} answered {status}: {text}")));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Json::String(text)))
}
