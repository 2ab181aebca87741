//! The driver: the one place flow I/O happens. It keeps the live executions of this
//! process (`live.rs` drives each one), runs their tasks (`task_runner.rs`), arms their
//! timers, and delivers stops and finish callbacks to them. Every transition is stored
//! before anything outside sees it (a callback's reply, the end, the callback URL POST).

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use serde_json::Value as Json;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::graph::FlowGraph;
use super::live::Exec;
use super::outbound::Outbound;
use super::scheduler::{Action, ErrorInfo, Event, ExecState, TaskStatus};
use super::writes::InFlight;
use crate::egress::EgressPolicy;
use crate::functions::JobRunner;
use crate::store::{JobOutcome, NewJob, Store};
use crate::time::now_us;

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

/// A live execution's handles.
pub(crate) struct Live {
    tx: mpsc::UnboundedSender<Msg>,
    done: watch::Receiver<Exit>,
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

/// Drives every live execution of this process.
pub(crate) struct Driver {
    pub(super) store: Arc<dyn Store>,
    pub(super) jobs: JobRunner,
    /// Outbound calls (HTTP tasks, callbacks).
    pub(super) outbound: Outbound,
    pub(super) config: FlowsConfig,
    pub(super) live: DashMap<String, Live>,
    tasks: TaskTracker,
    pub(super) stop: CancellationToken,
    /// Known only once the server listens (its port may be chosen by the OS).
    callback_base: std::sync::RwLock<String>,
}

impl Driver {
    pub(crate) fn new(store: Arc<dyn Store>, jobs: JobRunner, config: FlowsConfig, egress: &EgressPolicy) -> Self {
        Self {
            store,
            jobs,
            outbound: Outbound::new(egress, config.max_outbound_calls),
            callback_base: std::sync::RwLock::new(config.callback_base.clone()),
            config,
            live: DashMap::new(),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        }
    }

    pub(crate) fn config(&self) -> &FlowsConfig {
        &self.config
    }

    /// Sets the base URL async tasks are told to call back.
    pub(crate) fn set_callback_base(&self, base: String) {
        if let Ok(mut current) = self.callback_base.write() {
            *current = base;
        }
    }

    pub(super) fn callback_base(&self) -> String {
        self.callback_base.read().map(|b| b.trim_end_matches('/').to_string()).unwrap_or_default()
    }

    /// Starts driving `run`: performs `actions` (made by the transition `in_flight`
    /// writes, or one already stored), then delivers `first` if given. Returns a receiver
    /// that says how it left its driver.
    pub(crate) fn launch(
        self: &Arc<Self>,
        run: Running,
        actions: Vec<Action>,
        first: Option<Event>,
        in_flight: Option<InFlight>,
    ) -> watch::Receiver<Exit> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, done) = watch::channel(Exit::Running);
        if let Some(at) = run.deadline_at {
            self.timer(at, tx.clone(), Event::TimedOut);
        }
        if let Some(event) = first {
            let _ = tx.send(Msg::Event(event));
        }
        self.live.insert(run.id.clone(), Live { tx: tx.clone(), done: done.clone() });
        let exec = Exec::new(run, tx);
        {
            let core = exec.lock();
            self.perform(&exec, &core.run, actions);
        }
        let driver = self.clone();
        self.tasks.spawn(async move { driver.drive(exec, rx, done_tx, in_flight).await });
        done
    }

    /// The end signal of a live execution.
    pub(crate) fn done_signal(&self, id: &str) -> Option<watch::Receiver<Exit>> {
        self.live.get(id).map(|l| l.done.clone())
    }

    /// Sends an event to a live execution; false when it is not live here.
    pub(crate) fn send(&self, id: &str, event: Event) -> bool {
        self.live.get(id).is_some_and(|l| l.tx.send(Msg::Event(event)).is_ok())
    }

    /// Delivers a finish callback; `None` when the execution is not live here.
    pub(crate) async fn callback(
        &self,
        id: &str,
        key: &str,
        result: Result<Json, ErrorInfo>,
    ) -> Option<Result<(), CallbackError>> {
        let (reply, answer) = oneshot::channel();
        let sent =
            self.live.get(id).is_some_and(|l| l.tx.send(Msg::Callback { key: key.to_string(), result, reply }).is_ok());
        if !sent {
            return None;
        }
        answer.await.ok()
    }

    /// Stops driving (state stays stored; a restart resumes it) and waits for the tasks.
    pub(crate) async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Records job records no transition will carry (their execution ended).
    pub(super) async fn record_jobs(&self, jobs: Vec<FinishedJob>) {
        for (job, outcome) in jobs {
            if let Err(error) = self.store.insert_finished_job(job, outcome).await {
                tracing::error!(%error, "recording a flow task's job failed");
            }
        }
    }

    /// Delivers `event` at `at` (µs since the epoch) unless the driver stops first.
    pub(super) fn timer(&self, at: i64, tx: mpsc::UnboundedSender<Msg>, event: Event) {
        let stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = sleep_until(at) => { let _ = tx.send(Msg::Event(event)); }
            }
        });
    }
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
    if !(task.in_flight && task.status == TaskStatus::Running) {
        return Err(CallbackError::NotWaiting {
            execution: run.id.clone(),
            task: key.to_string(),
            status: task.status.as_str(),
        });
    }
    let (key, attempt) = (key.to_string(), task.attempt);
    Ok(match result {
        Ok(output) => Event::TaskSucceeded { key, attempt, output },
        Err(error) => Event::TaskFailed { key, attempt, error },
    })
}

async fn sleep_until(at_us: i64) {
    let wait = u64::try_from(at_us - now_us()).unwrap_or(0);
    tokio::time::sleep(Duration::from_micros(wait)).await;
}
