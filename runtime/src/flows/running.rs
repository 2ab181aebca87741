//! What a live execution is made of and what reaches it: the types the driver, the live
//! execution (`live.rs`) and the task runner (`tasks.rs`) share, so none of them needs
//! another's module.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::oneshot;

use super::graph::FlowGraph;
use super::scheduler::{ErrorInfo, Event, ExecState};
use crate::store::{JobOutcome, NewJob};

/// The job source of functions run as flow tasks.
pub const SOURCE_FLOW: &str = "flow";

/// Limits and addresses of the flow driver.
#[derive(Debug, Clone)]
pub struct FlowsConfig {
    /// Tasks of one execution dispatched at once.
    pub max_running_per_execution: usize,
    /// Longest an HTTP task call may take when the task sets no timeout.
    pub http_timeout: Duration,
    /// Outbound calls (HTTP tasks, callbacks) in flight at most, all executions together.
    pub max_outbound_calls: usize,
    /// Base URL async tasks are told to call back (`<base>/flow/finish.json?...`).
    pub callback_base: String,
}

impl Default for FlowsConfig {
    fn default() -> Self {
        Self {
            max_running_per_execution: 16,
            http_timeout: Duration::from_secs(60),
            max_outbound_calls: super::outbound::DEFAULT_MAX_CALLS,
            callback_base: "http://127.0.0.1:8080".into(),
        }
    }
}

/// Why a finish callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// No task of that name in the execution.
    #[error("execution {execution} has no task {task:?}")]
    UnknownTask {
        /// Execution id.
        execution: String,
        /// Task name.
        task: String,
    },
    /// The task exists but is not waiting for a result.
    #[error("task {task:?} of execution {execution} is not waiting for a callback (it is {status})")]
    NotWaiting {
        /// Execution id.
        execution: String,
        /// Task name.
        task: String,
        /// Its status.
        status: &'static str,
    },
    /// The new state could not be stored; the callback was not taken.
    #[error("the result could not be stored: {0}")]
    Store(String),
    /// The execution was deleted (with its flow) before the result could be stored.
    #[error("the execution was deleted")]
    Gone,
}

/// A finished function task's job record, written with the transition that takes its result.
pub(super) type FinishedJob = (NewJob, JobOutcome);

/// A message to a live execution.
pub(crate) enum Msg {
    /// A scheduler event.
    Event(Event),
    /// A task attempt's answer, with the job record of a function task.
    Answer(Event, Option<Box<FinishedJob>>),
    /// A task's result from the finish callback, answered once it is stored.
    Callback { key: String, result: Result<Json, ErrorInfo>, reply: oneshot::Sender<Result<(), CallbackError>> },
    /// Look again: a guest thread stepped the execution (a write to issue, or its end).
    Wake,
}

/// How an execution left its driver.
#[derive(Debug, Clone, Default)]
pub enum Exit {
    /// Still driven.
    #[default]
    Running,
    /// Not ended, but no longer driven here (shutdown, or a transition could not be stored).
    Paused,
    /// Ended; its final state as stored.
    Ended(Arc<Ended>),
}

/// The final state of an ended execution, as its last transition stored it.
#[derive(Debug)]
pub struct Ended {
    /// The scheduler state.
    pub state: ExecState,
    /// When it ended (µs since the epoch), as stored.
    pub finished_at: i64,
}

/// What a live execution runs.
pub(crate) struct Running {
    pub id: String,
    pub app_key: i64,
    pub graph: Arc<FlowGraph>,
    pub state: ExecState,
    pub callback_url: Option<String>,
    pub deadline_at: Option<i64>,
    /// Job records to write with the next transition.
    pub jobs: Vec<FinishedJob>,
    /// When it ended, once its terminal transition is built.
    pub finished_at: Option<i64>,
}

/// The scheduler event a finish callback stands for, if the task waits for one.
pub(super) fn callback_event(
    run: &Running,
    key: &str,
    result: Result<Json, ErrorInfo>,
) -> Result<Event, CallbackError> {
    let task = run
        .state
        .tasks
        .get(key)
        .ok_or_else(|| CallbackError::UnknownTask { execution: run.id.clone(), task: key.to_string() })?;
    if !(task.in_flight()) {
        return Err(CallbackError::NotWaiting {
            execution: run.id.clone(),
            task: key.to_string(),
            status: task.status().as_str(),
        });
    }
    let (key, attempt) = (key.to_string(), task.attempt);
    Ok(match result {
        Ok(output) => Event::TaskSucceeded { key, attempt, output },
        Err(error) => Event::TaskFailed { key, attempt, error },
    })
}
