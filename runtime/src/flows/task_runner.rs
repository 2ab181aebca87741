//! Running one task attempt for the driver: a cloud function in-process (its job record
//! is handed back to be written with the next transition) or an HTTP call; and POSTing
//! an execution's callback URL when it ends.

use std::time::Duration;

use serde_json::{Value as Json, json};

use super::driver::{Driver, FinishedJob, Running, SOURCE_FLOW};
use super::graph::{Resource, TaskPattern};
use super::http_task::{self, HttpCall};
use super::scheduler::{ErrorInfo, Event, TaskRun};
use crate::store::JobStatus;

impl Driver {
    /// Runs one attempt and says how it went (with the job record of a function task).
    pub(super) async fn run_task(&self, id: &str, app_key: i64, run: TaskRun) -> (Event, Option<FinishedJob>) {
        let (key, attempt) = (run.key.clone(), run.attempt);
        let mut job = None;
        let result = match &run.task.resource {
            Resource::Function { name } => {
                let (result, finished) = self.run_function(app_key, name, run.input).await;
                job = finished;
                result
            }
            Resource::Http { url } => {
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
                let call = HttpCall { url: url.clone(), method: run.task.method, input: run.input, timeout, callback };
                let agent = self.agent.clone();
                let answer = tokio::task::spawn_blocking(move || http_task::call(&agent, &call))
                    .await
                    .unwrap_or_else(|e| Err(ErrorInfo::new("States.Runtime", e.to_string())));
                if asynchronous && answer.is_ok() {
                    return (Event::TaskAccepted { key, attempt }, None);
                }
                answer
            }
            Resource::Unsupported { resource } => {
                Err(ErrorInfo::new("Unsupported", format!("resource {resource:?} is not supported")))
            }
        };
        let event = match result {
            Ok(output) => Event::TaskSucceeded { key, attempt, output },
            Err(error) => Event::TaskFailed { key, attempt, error },
        };
        (event, job)
    }

    async fn run_function(
        &self,
        app_key: i64,
        name: &str,
        input: Json,
    ) -> (Result<Json, ErrorInfo>, Option<FinishedJob>) {
        let (job, outcome) = match self.jobs.run_accepted(app_key, name, input, SOURCE_FLOW).await {
            Ok(finished) => finished,
            Err(e @ crate::error::ServiceError::NotFound { .. }) => {
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
