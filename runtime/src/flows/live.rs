//! One live execution: its state behind a lock, and the task that owns its writes.
//!
//! Events reach the state two ways. Most come as messages to the execution's task (timers,
//! HTTP answers, callbacks, stop). A function task's answer is stepped by the guest's
//! own thread as soon as the guest returns, and when that step starts another function
//! task, the same thread runs it next: a chain of wasm tasks goes from guest to guest on
//! one thread, with no wake-up of another thread in between. Either way the step's
//! actions are performed at once and the transition is recorded for the next write; the
//! task issues writes one at a time (`writes.rs`) and ends the execution once its last
//! transition is stored.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::callbacks::CallbackPost;
use super::running::{CallbackError, Ended, Exit, FinishedJob, Msg, Running, callback_event};
use super::scheduler::{Action, ErrorInfo, Event, step};
use super::task_tokens::TaskTarget;
use super::tasks::{Answers, Tasks};
use super::writes::{InFlight, Pending, Reply, WriteFuture};
use crate::store::{ExecutionSignal, ExecutionUpdate, SignalKind, Store, StoreError};
use crate::time::now_us;

/// What the lock of a live execution guards.
pub(crate) struct Core {
    pub(crate) run: Running,
    pending: Pending,
    /// A write is in flight: the task will look at `pending` when it commits.
    writing: bool,
    /// The task has finished with the execution: late answers only have their job
    /// records written.
    closed: bool,
}

/// A live execution's shared handles.
#[derive(Clone)]
pub(crate) struct Exec {
    core: Arc<Mutex<Core>>,
    pub(crate) tx: mpsc::UnboundedSender<Msg>,
}

impl Exec {
    pub(crate) fn new(run: Running, tx: mpsc::UnboundedSender<Msg>) -> Self {
        let core = Core { run, pending: Pending::default(), writing: false, closed: false };
        Self { core: Arc::new(Mutex::new(core)), tx }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What every live execution of this process works with.
pub(crate) struct LiveCtx {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) tasks: Arc<Tasks>,
    /// This node's id: every write is fenced on it (a node that lost the execution to
    /// another stops at its next write).
    pub(crate) node: String,
    /// Cancelled when the driver stops: executions stop stepping and write what is left.
    pub(crate) stop: CancellationToken,
    /// Wakes this node's keeper to take a stored signal (an ended execution's report to
    /// the task whose token started it).
    pub(crate) signalled: Arc<tokio::sync::Notify>,
}

/// A task's answers go to its execution.
struct ExecAnswers {
    ctx: Arc<LiveCtx>,
    exec: Exec,
}

impl Answers for ExecAnswers {
    fn on_guest_thread(&self, event: Event, job: Option<FinishedJob>) {
        self.ctx.deliver(&self.exec, event, job);
    }

    fn later(&self, event: Event) {
        let _ = self.exec.tx.send(Msg::Answer(event, None));
    }
}

impl LiveCtx {
    /// The execution's task: takes messages, issues writes one at a time, and once the
    /// execution ended (or the driver stops) writes what is left, calls `on_leave` (it is
    /// no longer live), and reports how it left.
    pub(crate) async fn drive(
        self: Arc<Self>,
        exec: Exec,
        mut rx: mpsc::UnboundedReceiver<Msg>,
        done: watch::Sender<Exit>,
        mut in_flight: Option<InFlight>,
        on_leave: impl FnOnce() + Send,
    ) {
        let mut stored = Ok(());
        loop {
            {
                let mut core = exec.lock();
                if core.run.state.status.is_terminal() {
                    break;
                }
                if in_flight.is_none() && core.pending.dirty() {
                    in_flight = Some(self.issue(&mut core));
                }
                core.writing = in_flight.is_some();
            }
            tokio::select! {
                biased;
                () = self.stop.cancelled() => break,
                result = committed(&mut in_flight), if in_flight.is_some() => {
                    in_flight = None;
                    if let Err(error) = result {
                        stored = Err(error);
                        break;
                    }
                }
                msg = rx.recv() => match msg {
                    Some(Msg::Wake) => {}
                    Some(msg) => self.take(&exec, &mut exec.lock(), msg),
                    None => break,
                },
            }
        }
        if stored.is_ok() {
            stored = self.settle(&exec, &mut in_flight).await;
        }
        let ended = {
            let mut core = exec.lock();
            core.closed = true;
            match &stored {
                Ok(()) => {}
                Err(error @ StoreError::LeaseLost(_)) => {
                    tracing::warn!(execution = %core.run.id, %error, "another node took this execution over; this node stops driving it");
                    core.pending.fail(error);
                }
                Err(error) => {
                    tracing::error!(execution = %core.run.id, %error, "persisting a flow transition failed; the execution pauses until a restart");
                    core.pending.fail(error);
                }
            }
            match (&stored, core.run.state.status.is_terminal(), core.run.finished_at) {
                (Ok(()), true, Some(finished_at)) => Some(Ended { state: core.run.state.clone(), finished_at }),
                _ => None,
            }
        };
        on_leave();
        self.wind_up(&exec, rx).await;
        let _ = done.send(ended.map_or(Exit::Paused, |e| Exit::Ended(Arc::new(e))));
    }

    /// Steps a function task's answer on the thread that ran the guest (see the module
    /// doc), then wakes the execution's task if it has a write to issue or an end to see.
    pub(crate) fn deliver(self: &Arc<Self>, exec: &Exec, event: Event, job: Option<FinishedJob>) {
        let mut core = exec.lock();
        // Closed, or its task is gone (the runtime was dropped without a shutdown): a
        // chain of tasks must not go on stepping with nobody to write its transitions.
        if core.closed || exec.tx.is_closed() {
            drop(core);
            let ctx = self.clone();
            tokio::spawn(async move { ctx.record_jobs(job.into_iter().collect()).await });
            return;
        }
        self.take(exec, &mut core, Msg::Answer(event, job.map(Box::new)));
        let wake = !core.writing || core.run.state.status.is_terminal();
        drop(core);
        if wake {
            let _ = exec.tx.send(Msg::Wake);
        }
    }

    /// Takes one message: steps the scheduler, performs the actions at once (the next
    /// task does not wait for the transition's commit) and records the transition for the
    /// next write. A crash before that write commits loses the transition, so the task
    /// that had just finished runs again after the restart. Once the execution ended (or
    /// the driver stops), answers only bring their job records.
    fn take(self: &Arc<Self>, exec: &Exec, core: &mut Core, msg: Msg) {
        let run = &mut core.run;
        let (event, reply) = match msg {
            Msg::Event(event) => (event, None),
            Msg::Answer(event, job) => {
                run.jobs.extend(job.map(|j| *j));
                (event, None)
            }
            Msg::Callback { key, result, reply } => match callback_event(run, &key, result) {
                Ok(event) => {
                    let reply: Reply = Box::new(move |stored| {
                        drop(reply.send(stored.map_err(|e| match e {
                            StoreError::NotFound(_) => CallbackError::Gone,
                            other => CallbackError::Store(other.to_string()),
                        })))
                    });
                    (event, Some(reply))
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                    return;
                }
            },
            Msg::Wake => return,
        };
        // Ended, or the driver stops: nothing more is stepped (an answer not taken is
        // retried after the restart, from the stored state), so no new task starts
        // while the server shuts down.
        let actions = if run.state.status.is_terminal() || self.stop.is_cancelled() {
            Vec::new()
        } else {
            step(&run.graph, &mut run.state, event, now_us())
        };
        self.perform(exec, run, actions);
        let events = run.state.drain_history();
        let jobs = !run.jobs.is_empty();
        core.pending.record(events, reply, jobs);
    }

    /// Performs the scheduler's actions for the execution.
    pub(crate) fn perform(self: &Arc<Self>, exec: &Exec, run: &Running, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Run(task) => {
                    let answers = Arc::new(ExecAnswers { ctx: self.clone(), exec: exec.clone() });
                    self.tasks.start(run, task, answers);
                }
                Action::SetTimer { key, timer, at } => {
                    self.timer(at, exec.tx.clone(), Event::TimerFired { key, timer });
                }
                Action::Finished => {}
            }
        }
    }

    /// The next write: the current state with the history and job records gathered since
    /// the last one.
    fn issue(&self, core: &mut Core) -> InFlight {
        let run = &mut core.run;
        let terminal = run.state.status.is_terminal();
        let (events, replies) = core.pending.take();
        let write: WriteFuture = match run.state.take_changes() {
            Ok(state) => {
                let update = ExecutionUpdate {
                    id: run.id.clone(),
                    status: run.state.status,
                    state,
                    output: run.state.output.clone(),
                    error: run.state.error.as_ref().map(|e| json!(e)),
                    finished_at: terminal.then(now_us),
                    owner: self.node.clone(),
                    jobs: std::mem::take(&mut run.jobs),
                };
                run.finished_at = update.finished_at;
                let store = self.store.clone();
                Box::pin(async move { store.save_execution(update, events).await })
            }
            Err(e) => {
                Box::pin(std::future::ready(Err(StoreError::Database(format!("the state does not serialize: {e}")))))
            }
        };
        InFlight::new(write, replies)
    }

    /// Writes whatever is recorded and not yet stored, and waits until it is.
    async fn settle(&self, exec: &Exec, in_flight: &mut Option<InFlight>) -> Result<(), StoreError> {
        loop {
            if let Some(write) = in_flight.as_mut() {
                write.committed().await?;
                *in_flight = None;
            }
            let mut core = exec.lock();
            if !core.pending.dirty() {
                core.closed = true;
                return Ok(());
            }
            *in_flight = Some(self.issue(&mut core));
        }
    }

    /// After the loop: job records no transition will carry are written; an ended
    /// execution's callback URL is POSTed.
    async fn wind_up(&self, exec: &Exec, mut rx: mpsc::UnboundedReceiver<Msg>) {
        rx.close();
        let mut leftover = std::mem::take(&mut exec.lock().run.jobs);
        while let Ok(msg) = rx.try_recv() {
            if let Msg::Answer(_, Some(job)) = msg {
                leftover.push(*job);
            }
        }
        self.record_jobs(leftover).await;
        let post = {
            let core = exec.lock();
            if core.run.state.status.is_terminal() { CallbackPost::of(&core.run) } else { None }
        };
        if let Some(post) = post {
            match TaskTarget::of_callback(&post.url) {
                Some(target) => self.report_to_task(target, &post.body).await,
                None => self.tasks.post_callback(post).await,
            }
        }
    }

    /// An execution started with `CallbackFnFTaskToken` ended: its outcome finishes that
    /// task, through a signal the node driving the task's execution takes (this node or
    /// another; kept until one drives it).
    async fn report_to_task(&self, target: TaskTarget, ended: &Json) {
        let result = match ended["status"].as_str() {
            Some("Succeeded") => Ok(ended["output"].clone()),
            status => {
                let status = status.unwrap_or("Failed");
                let error =
                    ended["error"]["error"].as_str().map_or_else(|| format!("Execution{status}"), str::to_string);
                let cause = ended["error"]["cause"].as_str().unwrap_or_default().to_string();
                Err(ErrorInfo::new(error, cause))
            }
        };
        let signal = ExecutionSignal {
            id: 0,
            execution_id: target.execution.clone(),
            kind: SignalKind::Finish,
            task: Some(target.task.clone()),
            body: super::signals::finish_body(result),
            created_at: crate::time::now_us(),
        };
        match self.store.add_signal(signal).await {
            Ok(_) => self.signalled.notify_one(),
            Err(error) => {
                tracing::warn!(execution = %target.execution, task = %target.task, %error, "the report to the waiting task was not stored");
            }
        }
    }

    /// Records job records no transition will carry (their execution ended).
    pub(crate) async fn record_jobs(&self, jobs: Vec<FinishedJob>) {
        for (job, outcome) in jobs {
            if let Err(error) = self.store.insert_finished_job(job, outcome).await {
                tracing::error!(%error, "recording a flow task's job failed");
            }
        }
    }

    /// Delivers `event` at `at` (µs since the epoch) unless the driver stops first.
    pub(crate) fn timer(&self, at: i64, tx: mpsc::UnboundedSender<Msg>, event: Event) {
        let stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = sleep_until(at) => { let _ = tx.send(Msg::Event(event)); }
            }
        });
    }
}

async fn sleep_until(at_us: i64) {
    let wait = u64::try_from(at_us - now_us()).unwrap_or(0);
    tokio::time::sleep(Duration::from_micros(wait)).await;
}

/// Waits for the write in flight (never called without one).
async fn committed(in_flight: &mut Option<InFlight>) -> Result<(), StoreError> {
    match in_flight.as_mut() {
        Some(write) => write.committed().await,
        None => std::future::pending().await,
    }
}
