//! The driver keeps the live executions of this process: it launches each one (`live.rs`
//! drives it: stepping, writes, its end), arms its deadline, and delivers stops and finish
//! callbacks to it. Every transition is stored before anything outside sees it (a
//! callback's reply, the end, the callback URL POST).

use std::sync::Arc;

use dashmap::DashMap;
use serde_json::Value as Json;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::live::{Exec, LiveCtx};
use super::outbound::Outbound;
use super::running::{CallbackError, Exit, FlowsConfig, Msg, Running};
use super::scheduler::{Action, ErrorInfo, Event};
use super::task_tokens::TaskTokens;
use super::tasks::Tasks;
use super::writes::InFlight;
use crate::egress::EgressPolicy;
use crate::runs::JobRunner;
use crate::store::Store;

/// A live execution's handles.
struct Live {
    tx: mpsc::UnboundedSender<Msg>,
    done: watch::Receiver<Exit>,
}

/// Keeps every live execution of this process.
pub(crate) struct Driver {
    ctx: Arc<LiveCtx>,
    config: FlowsConfig,
    live: Arc<DashMap<String, Live>>,
    tracker: TaskTracker,
}

impl Driver {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        jobs: JobRunner,
        config: FlowsConfig,
        egress: &EgressPolicy,
        tokens: TaskTokens,
        signalled: Arc<tokio::sync::Notify>,
    ) -> Self {
        let outbound = Outbound::new(egress, config.max_outbound_calls);
        let node = jobs.node().to_string();
        let tasks = Arc::new(Tasks::new(jobs, outbound, &config, tokens));
        Self {
            ctx: Arc::new(LiveCtx { store, tasks, node, stop: CancellationToken::new(), signalled }),
            config,
            live: Arc::new(DashMap::new()),
            tracker: TaskTracker::new(),
        }
    }

    pub(crate) fn config(&self) -> &FlowsConfig {
        &self.config
    }

    /// This node's id: the owner its executions carry.
    pub(crate) fn node(&self) -> &str {
        &self.ctx.node
    }

    /// True when the execution is live here.
    pub(crate) fn is_live(&self, id: &str) -> bool {
        self.live.contains_key(id)
    }

    /// Runs `work` beside the executions until the driver stops (it is given the stop
    /// signal and waited for at shutdown).
    pub(crate) fn spawn_beside<F>(&self, work: impl FnOnce(CancellationToken) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(work(self.ctx.stop.clone()));
    }

    /// Sets the base URL async tasks are told to call back.
    pub(crate) fn set_callback_base(&self, base: String) {
        self.ctx.tasks.set_callback_base(base);
    }

    /// Starts driving `run`: performs `actions` (made by the transition `in_flight`
    /// writes, or one already stored), then delivers `first` if given. Returns a receiver
    /// that says how it left its driver.
    pub(crate) fn launch(
        &self,
        run: Running,
        actions: Vec<Action>,
        first: Option<Event>,
        in_flight: Option<InFlight>,
    ) -> watch::Receiver<Exit> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, done) = watch::channel(Exit::Running);
        if let Some(at) = run.deadline_at {
            self.ctx.timer(at, tx.clone(), Event::TimedOut);
        }
        if let Some(event) = first {
            let _ = tx.send(Msg::Event(event));
        }
        let id = run.id.clone();
        self.live.insert(id.clone(), Live { tx: tx.clone(), done: done.clone() });
        let exec = Exec::new(run, tx);
        {
            let core = exec.lock();
            self.ctx.perform(&exec, &core.run, actions);
        }
        let (ctx, live) = (self.ctx.clone(), self.live.clone());
        let on_leave = move || drop(live.remove(&id));
        self.tracker.spawn(async move { ctx.drive(exec, rx, done_tx, in_flight, on_leave).await });
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
        self.ctx.stop.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}
