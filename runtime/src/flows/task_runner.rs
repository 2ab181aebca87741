//! Running one task attempt for the driver: a cloud function in-process (its job record
//! is handed back to be written with the next transition) or an HTTP call; and POSTing
//! an execution's callback URL when it ends.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};

use super::driver::{Driver, FinishedJob, Msg, Running, SOURCE_FLOW};
use super::graph::{Resource, TaskPattern};
use super::http_task::HttpCall;
use super::live::Exec;
use super::scheduler::{ErrorInfo, Event, TaskRun};
use crate::error::ServiceError;
use crate::store::JobStatus;

impl Driver {
    /// Starts one attempt. A function task's answer is stepped by the guest's thread
    /// ([`Driver::deliver`]); other answers go to the execution's task. Either way, when
    /// the execution has ended meanwhile, a job record is still written.
    pub(super) fn start_task(self: &Arc<Self>, exec: &Exec, run: &Running, task: TaskRun) {
        let (key, attempt) = (task.key.clone(), task.attempt);
        match &task.task.resource {
            Resource::Function { name } => {
                // The guest's thread may spawn (a timer, a job record): it needs the runtime.
                let handle = tokio::runtime::Handle::current();
                let (driver, exec, name) = (self.clone(), exec.clone(), name.clone());
                self.jobs.spawn_accepted(run.app_key, &name.clone(), task.input, SOURCE_FLOW, move |finished| {
                    let _runtime = handle.enter();
                    let (result, job) = function_result(&name, finished);
                    driver.deliver(&exec, event_of(key, attempt, result), job);
                });
            }
            Resource::Http { url } => {
                // Not tracked: on shutdown an attempt's answer is not waited for (the
                // restarted server retries it from the stored state).
                let (driver, id, url, tx) = (self.clone(), run.id.clone(), url.clone(), exec.tx.clone());
                tokio::spawn(async move {
                    let event = driver.call_http_task(&id, &url, task).await;
                    let _ = tx.send(Msg::Answer(event, None));
                });
            }
            Resource::Unsupported { resource } => {
                let error = ErrorInfo::new("Unsupported", format!("resource {resource:?} is not supported"));
                let _ = exec.tx.send(Msg::Answer(event_of(key, attempt, Err(error)), None));
            }
        }
    }

    /// Calls an HTTP task: its answer, or for an async task the acceptance of the call.
    async fn call_http_task(&self, id: &str, url: &str, run: TaskRun) -> Event {
        let (key, attempt) = (run.key, run.attempt);
        let timeout = run.timeout_secs.map_or(self.config.http_timeout, Duration::from_secs_f64);
        let callback = (run.task.pattern == TaskPattern::Async).then(|| {
            let url = format!(
                "{}/flow/finish.json?executionId={}&taskName={}",
                self.callback_base(),
                encode(id),
                encode(&key)
            );
            (id.to_string(), key.clone(), url)
        });
        let asynchronous = callback.is_some();
        let call = HttpCall { url: url.to_string(), method: run.task.method, input: run.input, timeout, callback };
        let answer = self.outbound.call(call).await;
        if asynchronous && answer.is_ok() {
            return Event::TaskAccepted { key, attempt };
        }
        event_of(key, attempt, answer)
    }

    /// POSTs the outcome to the execution's callback URL, once, best effort.
    pub(super) async fn post_callback(&self, post: CallbackPost) {
        let timeout = self.config.http_timeout;
        let CallbackPost { execution, url, body } = post;
        let call =
            HttpCall { url: url.clone(), method: super::graph::HttpMethod::Post, input: body, timeout, callback: None };
        if let Err(error) = self.outbound.call(call).await {
            tracing::warn!(%execution, %url, cause = %error.cause, "the execution's callback failed");
        }
    }
}

/// The POST an ended execution owes its callback URL.
pub(super) struct CallbackPost {
    execution: String,
    url: String,
    body: Json,
}

impl CallbackPost {
    /// The POST for `run`, if it has a callback URL.
    pub(super) fn of(run: &Running) -> Option<Self> {
        let url = run.callback_url.clone()?;
        let body = json!({
            "execution_id": run.id,
            "status": run.state.status.as_str(),
            "output": run.state.output,
            "error": run.state.error,
        });
        Some(Self { execution: run.id.clone(), url, body })
    }
}

/// The scheduler event for an attempt's result.
fn event_of(key: String, attempt: u32, result: Result<Json, ErrorInfo>) -> Event {
    match result {
        Ok(output) => Event::TaskSucceeded { key, attempt, output },
        Err(error) => Event::TaskFailed { key, attempt, error },
    }
}

/// A function task's result, and the job record to write when the guest ran.
fn function_result(
    name: &str,
    finished: Result<FinishedJob, ServiceError>,
) -> (Result<Json, ErrorInfo>, Option<FinishedJob>) {
    let (job, outcome) = match finished {
        Ok(finished) => finished,
        Err(e @ ServiceError::NotFound { .. }) => {
            return (Err(ErrorInfo::new("FunctionNotFound", e.to_string())), None);
        }
        Err(other) => return (Err(ErrorInfo::new("FunctionFailed", other.to_string())), None),
    };
    let result = if outcome.status == JobStatus::Fulfilled {
        Ok(outcome.output.clone().unwrap_or(Json::Null))
    } else {
        let error = outcome.error_code.clone().unwrap_or_else(|| outcome.status.as_str().to_string());
        let message = outcome.error_message.clone().unwrap_or_default();
        Err(ErrorInfo::new(error, format!("function {name:?}: {message}")))
    };
    (result, Some((job, outcome)))
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
