//! Running one task attempt: a cloud function in-process (its job record is handed back
//! to be written with the next transition) or an HTTP call; and POSTing an execution's
//! callback URL when it ends. Answers go back through [`Answers`], so this module knows
//! nothing of how a live execution takes them.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value as Json;

use super::callbacks::{CallbackPost, finish_url};
use super::graph::{HttpMethod, Resource, TaskPattern};
use super::http_task::HttpCall;
use super::outbound::Outbound;
use super::running::{FinishedJob, FlowsConfig, Running, SOURCE_FLOW};
use super::scheduler::{ErrorInfo, Event, TaskRun};
use super::task_tokens::{TaskTarget, TaskTokens, fill};
use crate::error::ServiceError;
use crate::runs::JobRunner;

/// Where a task attempt's answer goes.
pub(crate) trait Answers: Send + Sync + 'static {
    /// A function task's answer, on the thread that ran the guest (stepped there at once).
    fn on_guest_thread(&self, event: Event, job: Option<FinishedJob>);
    /// Any other answer (an HTTP call's, a refusal), taken by the execution's task.
    fn later(&self, event: Event);
}

/// Starts task attempts and makes the execution's outbound calls.
pub(crate) struct Tasks {
    jobs: JobRunner,
    outbound: Outbound,
    http_timeout: Duration,
    /// Known only once the server listens (its port may be chosen by the OS).
    callback_base: RwLock<String>,
    /// Mints the tokens `waitForCallback` tasks hand out.
    tokens: TaskTokens,
}

impl Tasks {
    /// Runs functions on `jobs` and calls out through `outbound`.
    pub(crate) fn new(jobs: JobRunner, outbound: Outbound, config: &FlowsConfig, tokens: TaskTokens) -> Self {
        Self {
            jobs,
            outbound,
            tokens,
            http_timeout: config.http_timeout,
            callback_base: RwLock::new(config.callback_base.clone()),
        }
    }

    /// Sets the base URL async tasks are told to call back.
    pub(crate) fn set_callback_base(&self, base: String) {
        if let Ok(mut current) = self.callback_base.write() {
            *current = base;
        }
    }

    fn callback_base(&self) -> String {
        self.callback_base.read().map(|b| b.clone()).unwrap_or_default()
    }

    /// Starts one attempt of `run`'s task; its answer goes to `answers`. When the execution
    /// has ended meanwhile, a function task's job record is still handed over.
    pub(crate) fn start(self: &Arc<Self>, run: &Running, mut task: TaskRun, answers: Arc<dyn Answers>) {
        let (key, attempt) = (task.key.clone(), task.attempt);
        let asynchronous = task.task.pattern == TaskPattern::Async;
        if asynchronous {
            let target = TaskTarget { app_key: run.app_key, execution: run.id.clone(), task: key.clone() };
            fill(&mut task.input, &self.tokens.mint(&target));
        }
        match &task.task.resource {
            Resource::Function { name } => {
                // The guest's thread may spawn (a timer, a job record): it needs the runtime.
                let handle = tokio::runtime::Handle::current();
                let name = name.clone();
                self.jobs.spawn_accepted(run.app_key, &name.clone(), task.input, SOURCE_FLOW, move |finished| {
                    let _runtime = handle.enter();
                    let (result, job) = function_result(&name, finished);
                    // `waitForCallback`: the function started the work; its result comes
                    // with the task token.
                    let event = match result {
                        Ok(_) if asynchronous => Event::TaskAccepted { key, attempt },
                        result => event_of(key, attempt, result),
                    };
                    answers.on_guest_thread(event, job);
                });
            }
            Resource::Http { url } => {
                let url = url.clone();
                // Runs whole on the outbound runtime: no task of the server's own runtime
                // waits for it (a Map of 10,000 calls held 10,000 of them). Not tracked:
                // on shutdown an answer is not waited for (the restarted server retries
                // the attempt from the stored state).
                let (call, asynchronous) = self.http_call(run, &url, task);
                self.outbound.spawn(call, move |answer| {
                    let event = match answer {
                        Ok(_) if asynchronous => Event::TaskAccepted { key, attempt },
                        answer => event_of(key, attempt, answer),
                    };
                    answers.later(event);
                });
            }
            Resource::Unsupported { resource } => {
                let error = ErrorInfo::new("Unsupported", format!("resource {resource:?} is not supported"));
                answers.later(event_of(key, attempt, Err(error)));
            }
        }
    }

    /// An HTTP task's call, and whether it is async (its answer is then the acceptance
    /// of the call, and the result comes by the finish callback).
    fn http_call(&self, execution: &Running, url: &str, run: TaskRun) -> (HttpCall, bool) {
        let (id, state) = (&execution.id, &execution.state);
        let timeout = run.timeout_secs.map_or(self.http_timeout, Duration::from_secs_f64);
        let callback = (run.task.pattern == TaskPattern::Async)
            .then(|| (id.to_string(), run.key.clone(), finish_url(&self.callback_base(), id, &run.key)));
        let asynchronous = callback.is_some();
        let headers = state.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let call =
            HttpCall { url: url.to_string(), method: run.task.method, input: run.input, timeout, callback, headers };
        (call, asynchronous)
    }

    /// POSTs the outcome to the execution's callback URL, once, best effort.
    pub(crate) async fn post_callback(&self, post: CallbackPost) {
        let CallbackPost { execution, url, body } = post;
        let call = HttpCall {
            url: url.clone(),
            method: HttpMethod::Post,
            input: body,
            timeout: self.http_timeout,
            callback: None,
            headers: Vec::new(),
        };
        if let Err(error) = self.outbound.call(call).await {
            tracing::warn!(%execution, %url, cause = %error.cause, "the execution's callback failed");
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
    let result = match &outcome.end.result {
        Ok(output) => Ok(output.clone()),
        Err(failure) => Err(ErrorInfo::new(failure.code.clone(), format!("function {name:?}: {}", failure.message))),
    };
    (result, Some((job, outcome)))
}
