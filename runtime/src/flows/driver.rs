//! The driver: the one place flow I/O happens. Each live execution has a task that takes
//! events one at a time, lets the scheduler compute the next state, persists it with its
//! history (the durability point: nothing is acknowledged before it is stored), then
//! performs the actions: runs function tasks in-process, calls HTTP tasks, arms timers,
//! and on the end POSTs the execution's callback URL.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::graph::FlowGraph;
use super::http_task;
use super::scheduler::{Action, ErrorInfo, Event, ExecState, TaskStatus, step};
use super::writes::{Reply, Writes};
use crate::functions::JobRunner;
use crate::store::{ExecutionUpdate, JobOutcome, NewJob, Store, StoreError, sqlite::now_us};

/// The job source of functions run as flow tasks.
pub const SOURCE_FLOW: &str = "flow";

/// Limits and addresses of the flow driver.
#[derive(Debug, Clone)]
pub struct FlowsConfig {
    /// Tasks of one execution dispatched at once.
    pub max_running_per_execution: usize,
    /// Longest an HTTP task call may take when the task sets no timeout.
    pub http_timeout: Duration,
    /// Base URL async tasks are told to call back (`<base>/flow/finish.json?...`).
    pub callback_base: String,
}

impl Default for FlowsConfig {
    fn default() -> Self {
        Self {
            max_running_per_execution: 16,
            http_timeout: Duration::from_secs(60),
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
    pub(super) agent: ureq::Agent,
    pub(super) config: FlowsConfig,
    live: DashMap<String, Live>,
    tasks: TaskTracker,
    stop: CancellationToken,
    /// Known only once the server listens (its port may be chosen by the OS).
    callback_base: std::sync::RwLock<String>,
}

impl Driver {
    pub(crate) fn new(store: Arc<dyn Store>, jobs: JobRunner, config: FlowsConfig) -> Self {
        Self {
            store,
            jobs,
            agent: http_task::agent(),
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

    /// Starts driving `run`: performs `actions` (made by the transition that `writes`
    /// has in flight or already stored), then delivers `first` if given. Returns a
    /// receiver that says how it left its driver.
    pub(crate) fn launch(
        self: &Arc<Self>,
        run: Running,
        actions: Vec<Action>,
        first: Option<Event>,
        writes: Writes,
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
        self.perform(&run, &tx, actions);
        let driver = self.clone();
        self.tasks.spawn(async move { driver.drive(run, tx, rx, done_tx, writes).await });
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

    async fn drive(
        self: Arc<Self>,
        mut run: Running,
        tx: mpsc::UnboundedSender<Msg>,
        mut rx: mpsc::UnboundedReceiver<Msg>,
        done: watch::Sender<Exit>,
        mut writes: Writes,
    ) {
        let mut stored = Ok(());
        while stored.is_ok() && !run.state.status.is_terminal() {
            if writes.ready_to_issue() {
                self.issue(&mut run, &mut writes);
            }
            tokio::select! {
                biased;
                () = self.stop.cancelled() => break,
                result = writes.committed(), if writes.in_flight() => stored = result,
                msg = rx.recv() => match msg {
                    Some(msg) => self.take(&mut run, &tx, msg, &mut writes),
                    None => break,
                },
            }
        }
        if stored.is_ok() {
            stored = self.settle(&mut run, &mut writes).await;
        }
        if let Err(error) = &stored {
            tracing::error!(execution = %run.id, %error, "persisting a flow transition failed; the execution pauses until a restart");
        }
        self.wind_up(&mut run, rx).await;
        let exit = match (stored, run.state.status.is_terminal(), run.finished_at) {
            (Ok(()), true, Some(finished_at)) => Exit::Ended(Arc::new(Ended { state: run.state, finished_at })),
            _ => Exit::Paused,
        };
        let _ = done.send(exit);
    }

    /// Takes one message: steps the scheduler, performs the actions at once (the next
    /// task does not wait for the transition's commit) and records the transition for the
    /// next write. A crash before that write commits loses the transition, so the task
    /// that had just finished runs again after the restart.
    fn take(self: &Arc<Self>, run: &mut Running, tx: &mpsc::UnboundedSender<Msg>, msg: Msg, writes: &mut Writes) {
        let (event, reply) = match msg {
            Msg::Event(event) => (event, None),
            Msg::Answer(event, job) => {
                run.jobs.extend(job.map(|j| *j));
                (event, None)
            }
            Msg::Callback { key, result, reply } => match callback_event(run, &key, result) {
                Ok(event) => {
                    let reply: Reply = Box::new(move |stored| {
                        drop(reply.send(stored.map_err(|e| CallbackError::Store(e.to_string()))))
                    });
                    (event, Some(reply))
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                    return;
                }
            },
        };
        let actions = step(&run.graph, &mut run.state, event, now_us());
        self.perform(run, tx, actions);
        writes.record(run.state.drain_history(), reply, !run.jobs.is_empty());
    }

    /// Puts the next write in flight: the current state with the history and job records
    /// gathered since the last one.
    fn issue(&self, run: &mut Running, writes: &mut Writes) {
        let terminal = run.state.status.is_terminal();
        let state = serde_json::to_string(&run.state);
        let update = state.map(|state| ExecutionUpdate {
            id: run.id.clone(),
            status: run.state.status.as_str().into(),
            state,
            output: run.state.output.clone(),
            error: run.state.error.as_ref().map(|e| json!(e)),
            finished_at: terminal.then(now_us),
            jobs: std::mem::take(&mut run.jobs),
        });
        if let Ok(update) = &update {
            run.finished_at = update.finished_at;
        }
        let store = self.store.clone();
        writes.issue(move |events| match update {
            Ok(update) => Box::pin(async move { store.save_execution(update, events).await }),
            Err(e) => {
                Box::pin(std::future::ready(Err(StoreError::Database(format!("the state does not serialize: {e}")))))
            }
        });
    }

    /// Writes whatever is recorded and not yet stored, and waits until it is.
    async fn settle(&self, run: &mut Running, writes: &mut Writes) -> Result<(), StoreError> {
        loop {
            if writes.ready_to_issue() {
                self.issue(run, writes);
            }
            if !writes.in_flight() {
                return Ok(());
            }
            writes.committed().await?;
        }
    }

    /// After the loop: the execution leaves the live set; job records no transition will
    /// carry are written; an ended execution's callback URL is POSTed.
    async fn wind_up(&self, run: &mut Running, mut rx: mpsc::UnboundedReceiver<Msg>) {
        self.live.remove(&run.id);
        rx.close();
        let mut leftover = std::mem::take(&mut run.jobs);
        while let Ok(msg) = rx.try_recv() {
            if let Msg::Answer(_, Some(job)) = msg {
                leftover.push(*job);
            }
        }
        self.record_jobs(leftover).await;
        if run.state.status.is_terminal() {
            self.post_callback(run).await;
        }
    }

    /// Records job records no transition will carry (their execution ended).
    pub(super) async fn record_jobs(&self, jobs: Vec<FinishedJob>) {
        for (job, outcome) in jobs {
            if let Err(error) = self.store.insert_finished_job(job, outcome).await {
                tracing::error!(%error, "recording a flow task's job failed");
            }
        }
    }

    fn perform(self: &Arc<Self>, run: &Running, tx: &mpsc::UnboundedSender<Msg>, actions: Vec<Action>) {
        for action in actions {
            let tx = tx.clone();
            match action {
                Action::Run(task) => self.start_task(&run.id, run.app_key, tx, task),
                Action::SetTimer { key, timer, at } => self.timer(at, tx, Event::TimerFired { key, timer }),
                Action::Finished => {}
            }
        }
    }

    /// Delivers `event` at `at` (µs since the epoch) unless the driver stops first.
    fn timer(&self, at: i64, tx: mpsc::UnboundedSender<Msg>, event: Event) {
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
fn callback_event(run: &Running, key: &str, result: Result<Json, ErrorInfo>) -> Result<Event, CallbackError> {
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
