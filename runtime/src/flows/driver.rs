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
use crate::functions::JobRunner;
use crate::store::{ExecutionEvent, ExecutionUpdate, JobOutcome, NewJob, Store, sqlite::now_us};

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

    /// Starts driving `run`: performs `actions` (already persisted with the state), then
    /// delivers `first` if given. Returns a receiver that turns true when it ends.
    pub(crate) fn launch(
        self: &Arc<Self>,
        run: Running,
        actions: Vec<Action>,
        first: Option<Event>,
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
        self.tasks.spawn(async move { driver.drive(run, tx, rx, done_tx).await });
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
    ) {
        while !run.state.status.is_terminal() {
            let msg = tokio::select! {
                () = self.stop.cancelled() => break,
                msg = rx.recv() => msg,
            };
            let Some(msg) = msg else { break };
            let (event, reply) = match msg {
                Msg::Event(event) => (event, None),
                Msg::Answer(event, job) => {
                    run.jobs.extend(job.map(|j| *j));
                    (event, None)
                }
                Msg::Callback { key, result, reply } => match callback_event(&run, &key, result) {
                    Ok(event) => (event, Some(reply)),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        continue;
                    }
                },
            };
            let stored = self.transition(&mut run, &tx, event).await;
            if let Some(reply) = reply {
                let _ = reply.send(stored.clone().map_err(CallbackError::Store));
            }
            if let Err(error) = stored {
                tracing::error!(execution = %run.id, %error, "persisting a flow transition failed; the execution pauses until a restart");
                break;
            }
        }
        self.wind_up(&mut run, rx).await;
        let exit = match (run.state.status.is_terminal(), run.finished_at) {
            (true, Some(finished_at)) => Exit::Ended(Arc::new(Ended { state: run.state, finished_at })),
            _ => Exit::Paused,
        };
        let _ = done.send(exit);
    }

    /// Steps `event`, queues the transition's write, performs its actions while the write
    /// commits, and returns once it is stored. Nothing outside sees the transition before
    /// then (callback replies and the end wait for it); a crash before the commit loses
    /// the transition, so the task that just finished runs again after the restart.
    async fn transition(
        self: &Arc<Self>,
        run: &mut Running,
        tx: &mpsc::UnboundedSender<Msg>,
        event: Event,
    ) -> Result<(), String> {
        let actions = step(&run.graph, &mut run.state, event, now_us());
        let update = Self::update_of(run);
        let write = async {
            match update {
                Ok(Some((update, events))) => {
                    self.store.save_execution(update, events).await.map_err(|e| e.to_string())
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        };
        tokio::pin!(write);
        // Poll once so the write is queued before the actions start.
        let queued = tokio::select! {
            biased;
            stored = &mut write => Some(stored),
            () = std::future::ready(()) => None,
        };
        self.perform(run, tx, actions);
        match queued {
            Some(stored) => stored,
            None => write.await,
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
    async fn record_jobs(&self, jobs: Vec<FinishedJob>) {
        for (job, outcome) in jobs {
            if let Err(error) = self.store.insert_finished_job(job, outcome).await {
                tracing::error!(%error, "recording a flow task's job failed");
            }
        }
    }

    /// The write that stores the transition just made (`None` when nothing changed).
    fn update_of(run: &mut Running) -> Result<Option<(ExecutionUpdate, Vec<ExecutionEvent>)>, String> {
        let events = run.state.drain_history();
        if events.is_empty() && run.jobs.is_empty() {
            return Ok(None);
        }
        let terminal = run.state.status.is_terminal();
        let update = ExecutionUpdate {
            id: run.id.clone(),
            status: run.state.status.as_str().into(),
            state: serde_json::to_string(&run.state).map_err(|e| e.to_string())?,
            output: run.state.output.clone(),
            error: run.state.error.as_ref().map(|e| json!(e)),
            finished_at: terminal.then(now_us),
            jobs: std::mem::take(&mut run.jobs),
        };
        run.finished_at = update.finished_at;
        Ok(Some((update, events)))
    }

    fn perform(self: &Arc<Self>, run: &Running, tx: &mpsc::UnboundedSender<Msg>, actions: Vec<Action>) {
        for action in actions {
            let tx = tx.clone();
            match action {
                Action::Run(task) => {
                    // Not tracked: on shutdown an attempt's answer is not waited for (the
                    // restarted server retries it from the stored state).
                    let (driver, id, app_key) = (self.clone(), run.id.clone(), run.app_key);
                    tokio::spawn(async move {
                        let (event, job) = driver.run_task(&id, app_key, task).await;
                        let answer = Msg::Answer(event, job.map(Box::new));
                        if let Err(mpsc::error::SendError(Msg::Answer(_, Some(job)))) = tx.send(answer) {
                            // The execution ended meanwhile: its job is still recorded.
                            driver.record_jobs(vec![*job]).await;
                        }
                    });
                }
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
