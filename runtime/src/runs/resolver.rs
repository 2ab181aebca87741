//! How a bin's `functionKey` calls reach an app's functions: the app's bindings map a
//! key to one of its cloud functions (run in-process on the run's thread, with its own job
//! record, source `bin`) or to an HTTP endpoint (POSTed seed 000's `{executeInstanceId, functionKey,
//! paramsList}`; the response body is the return value).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use super::Executor;
use super::run::{new_job, run_call};
use crate::engine::{CallError, Engine, FunctionCall, FunctionModule, FunctionResolver, TypedValue, VarFetch};
use crate::store::{BindingTarget, FunctionRecord, JobOutcome, NewJob};

/// Longest an HTTP endpoint may take to answer one call.
const MAX_ENDPOINT_TIMEOUT: Duration = Duration::from_secs(30);

/// The job source of functions called by bins.
pub const SOURCE_BIN: &str = "bin";

/// A function a binding names, looked up before the run.
pub(crate) type Bound = (FunctionRecord, Arc<FunctionModule>);

/// An app's bindings, resolved on the run's guest thread without going back to the
/// async side: the functions they name were looked up before the run, and the job records
/// of the calls are handed back to be written after it.
pub(crate) struct AppResolver {
    pub(crate) app_key: i64,
    pub(crate) bindings: HashMap<String, BindingTarget>,
    /// Bound functions by name (a binding whose function is gone has no entry).
    pub(crate) functions: HashMap<String, Bound>,
    pub(crate) engine: Engine,
    pub(crate) agent: ureq::Agent,
    /// Where the calls are counted.
    pub(crate) executor: Arc<Executor>,
    /// The calls' job records, written by the caller once the run is over.
    pub(crate) jobs: Arc<Mutex<Vec<(NewJob, JobOutcome)>>>,
    /// The bin's `getVarUrl` (seed 000, 4.3), asked for variables the instance lacks.
    pub(crate) get_var_url: Option<String>,
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

    fn fetch_var(&self, fetch: &VarFetch<'_>) -> Result<Option<TypedValue>, CallError> {
        let Some(url) = &self.get_var_url else { return Ok(None) };
        fetch_var(&self.agent, url, fetch)
    }
}

impl AppResolver {
    fn call_function(&self, name: &str, call: &FunctionCall<'_>, remaining: Duration) -> Result<Json, CallError> {
        let (function, module) = self
            .functions
            .get(name)
            .ok_or_else(|| CallError::new("FunctionFailed", format!("function {name:?} does not exist")))?;
        let input = Json::Array(call.params.to_vec());
        let mut job = new_job(self.app_key, function, input, SOURCE_BIN, true);
        job.timeout_ms = job.timeout_ms.min(i64::try_from(remaining.as_millis()).unwrap_or(i64::MAX));
        let (outcome, result) = run_call(&self.engine, self.executor.metrics(), module, &job);
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.push((job, outcome));
        }
        result
    }
}

/// POSTs the call to `url`; the answer's JSON body is the return value.
/// Seed 000, 4.3: `GET getVarUrl?instanceId=&varKey=`. A 2xx answer is the variable:
/// `{data, len, type}` kept as sent, any other JSON as its value; 404 or a `null` body
/// means there is no such variable; any other answer is an error the bin can handle.
fn fetch_var(agent: &ureq::Agent, url: &str, fetch: &VarFetch<'_>) -> Result<Option<TypedValue>, CallError> {
    let remaining = fetch.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(CallError::new("DeadlineExceeded", "the run's deadline has passed"));
    }
    let timeout = remaining.saturating_sub(remaining / 10).min(MAX_ENDPOINT_TIMEOUT);
    let request = agent
        .get(url)
        .query("instanceId", fetch.instance_id.unwrap_or_default())
        .query("varKey", fetch.key)
        .config()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build();
    let mut response = request.call().map_err(|e| CallError::new("EndpointUnreachable", format!("GET {url}: {e}")))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| CallError::new("EndpointFailed", format!("reading the answer of {url}: {e}")))?;
    if status.as_u16() == 404 {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(CallError::new("EndpointFailed", format!("{url} answered {status}: {text}")));
    }
    let answer: Json = serde_json::from_str(&text).unwrap_or(Json::String(text));
    Ok(match answer {
        Json::Null => None,
        Json::Object(ref fields) if fields.contains_key("data") => Some(
            serde_json::from_value::<TypedValue>(answer.clone())
                .unwrap_or_else(|_| TypedValue::infer(answer["data"].clone())),
        ),
        other => Some(TypedValue::infer(other)),
    })
}

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
