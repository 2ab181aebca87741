//! Running one task attempt for the driver: a cloud function in-process (its job record
//! is handed back to be written with the next transition) or an HTTP call; and POSTing
//! an execution's callback URL when it ends.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};

use tokio::sync::mpsc;

use super::driver::{Driver, FinishedJob, Msg, Running, SOURCE_FLOW};
use super::graph::{Resource, TaskPattern};
use super::http_task::{self, HttpCall};
use super::scheduler::{ErrorInfo, Event, TaskRun};
use crate::error::ServiceError;
use crate::store::JobStatus;

impl Driver {
    /// Starts one attempt; its answer (with a function task's job record) goes to `tx`,
    /// or, when the execution has ended meanwhile, the job record is still written.
    pub(super) fn start_task(self: &Arc<Self>, id: &str, app_key: i64, tx: mpsc::UnboundedSender<Msg>, run: TaskRun) {
        let driver = self.clone();
        let answer = move |event: Event, job: Option<FinishedJob>| {
            if let Err(mpsc::error::SendError(Msg::Answer(_, Some(job)))) =
                tx.send(Msg::Answer(event, job.map(Box::new)))
            {
                tokio::spawn(async move { driver.record_jobs(vec![*job]).await });
            }
        };
        let (key, attempt) = (run.key.clone(), run.attempt);
        match &run.task.resource {
            Resource::Function { name } => {
                // The answer is sent from the guest's thread, which needs the runtime's
                // handle should it have to spawn.
                let handle = tokio::runtime::Handle::current();
                let name = name.clone();
                self.jobs.spawn_accepted(app_key, &name.clone(), run.input, SOURCE_FLOW, move |finished| {
                    let _runtime = handle.enter();
                    let (result, job) = function_result(&name, finished);
                    answer(event_of(key, attempt, result), job);
                });
            }
            Resource::Http { url } => {
                // Not tracked: on shutdown an attempt's answer is not waited for (the
                // restarted server retries it from the stored state).
                let (driver, id, url) = (self.clone(), id.to_string(), url.clone());
                tokio::spawn(async move {
                    let event = driver.call_http_task(&id, &url, run).await;
                    answer(event, None);
                });
            }
            Resource::Unsupported { resource } => {
                let error = ErrorInfo::new("Unsupported", format!("resource {resource:?} is not supported"));
                answer(event_of(key, attempt, Err(error)), None);
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
        let agent = self.agent.clone();
        let answer = tokio::task::spawn_blocking(move || http_task::call(&agent, &call))
            .await
            .unwrap_or_else(|e| Err(ErrorInfo::new("States.Runtime", e.to_string())));
        if asynchronous && answer.is_ok() {
            return Event::TaskAccepted { key, attempt };
        }
        event_of(key, attempt, answer)
    }

    /// POSTs the outcome to the execution's callback URL, once, best effort.
    pub(super) async fn post_callback(&self, run: &Running) {
        let Some(url) = run.callback_url.clone() else { return };
        let body = json!({
            "execution_id": run.id,
            "status": run.state.status.as_str(),
            "output": run.state.output,
            "error": run.state.error,
        });
        let agent = self.agent.clone();
        let timeout = self.config.http_timeout;
        let call =
            HttpCall { url: url.clone(), method: super::graph::HttpMethod::Post, input: body, timeout, callback: None };
        let answer = tokio::task::spawn_blocking(move || http_task::call(&agent, &call)).await;
        if let Ok(Err(error)) = answer {
            tracing::warn!(execution = %run.id, %url, cause = %error.cause, "the execution's callback failed");
        }
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
