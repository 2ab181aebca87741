//! Jobs: sync invocations (run now, record the finished job) and async ones (record a
//! waiting job durably, answer, and let the dispatcher (`dispatcher.rs`) run it). Claimed
//! jobs carry this node's lease (`lease.rs`), so a job accepted before a restart or on a
//! node that died runs again elsewhere or after it (at-least-once start; the terminal
//! record is written once).

mod dispatcher;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::backlog::Backlog;
use super::executor::{Slot, Ticket};
use super::lease::{Lease, LeaseEvent};
use super::outcome::not_run;
use super::run::{Caller, count_job, new_job, run_job};
use super::{AppLimits, Executor};
use crate::engine::{Engine, FunctionModule};
use crate::error::ServiceError;
use crate::functions::{Functions, millis};
use crate::store::{FailedStatus, JobFilter, JobOutcome, JobOverview, JobRecord, NewJob, PageRequest, Store};
use crate::time::now_us;

/// Where a sync call hears its recorded job.
type SyncReply = oneshot::Sender<Result<JobRecord, ServiceError>>;

/// Limits of the job runner.
#[derive(Debug, Clone, Copy)]
pub struct RunnerConfig {
    /// Guests running at once.
    pub max_concurrency: usize,
    /// Sync invocations waiting for a slot before new ones get 429.
    pub max_queue: usize,
    /// Async jobs waiting before new ones get 429.
    pub max_waiting_jobs: i64,
    /// The share (0–1) of the slots and of the queue one app may hold unless its own
    /// limits say otherwise, so one app cannot take them all.
    pub app_share: f64,
    /// How long a node's claimed jobs stay its own without a heartbeat; past it, any
    /// node puts them back to waiting. The heartbeat comes every tenth of it.
    pub lease: Duration,
    /// How often an idle dispatcher looks for waiting jobs when nothing wakes it (a job
    /// queued on this node, or a notice of one queued on another, wakes it at once).
    pub idle_poll: Duration,
}

/// The default [`RunnerConfig::lease`].
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 16,
            max_queue: 64,
            max_waiting_jobs: 100_000,
            app_share: 0.75,
            lease: DEFAULT_LEASE,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// Runs functions as jobs.
#[derive(Clone)]
pub struct JobRunner {
    inner: Arc<Inner>,
}

struct Inner {
    /// This node's lease on the jobs it claims (they carry its id).
    lease: Arc<Lease>,
    store: Arc<dyn Store>,
    engine: Engine,
    functions: Functions,
    executor: Arc<Executor>,
    config: RunnerConfig,
    wake: Notify,
    stop: CancellationToken,
    tasks: TaskTracker,
    /// The bound on waiting jobs.
    backlog: Backlog,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner for node `node`; call [`JobRunner::start`] to run async jobs.
    pub fn new(
        store: Arc<dyn Store>,
        engine: Engine,
        functions: Functions,
        config: RunnerConfig,
        node: String,
    ) -> Self {
        let executor = Arc::new(Executor::new(config.max_concurrency, config.max_queue, config.app_share));
        let inner = Inner {
            lease: Lease::new(store.clone(), node, config.lease),
            backlog: Backlog::new(store.clone(), config.max_waiting_jobs),
            store,
            engine,
            functions,
            executor,
            config,
            wake: Notify::new(),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Takes this node's lease, puts back to waiting the jobs it left executing when it
    /// last stopped and those of nodes whose lease ran out, then starts the dispatcher and
    /// the lease's renewal. Returns how many jobs went back to waiting.
    pub async fn start(&self) -> Result<u64, ServiceError> {
        let inner = &self.inner;
        for (app_key, text) in inner.store.app_limits().await? {
            match serde_json::from_str::<AppLimits>(&text) {
                Ok(limits) => inner.executor.set_limits(app_key, limits),
                Err(error) => tracing::error!(app_key, %error, "stored app limits do not parse; defaults apply"),
            }
        }
        let requeued = inner.lease.take().await?;
        if requeued > 0 {
            tracing::warn!(requeued, node = %inner.lease.node(), "requeued jobs this node left executing when it stopped");
        }
        let reclaimed = inner.lease.reclaim().await?;
        if reclaimed > 0 {
            tracing::warn!(reclaimed, "took back the jobs of nodes whose heartbeat stopped");
            inner.executor.metrics().reclaimed(reclaimed);
        }
        let runner = self.clone();
        inner.lease.keep(move |event| match event {
            LeaseEvent::Renewed(took) => runner.inner.executor.metrics().store_call("heartbeat", took.as_secs_f64()),
            LeaseEvent::Reclaimed(n) => {
                runner.inner.executor.metrics().reclaimed(n);
                runner.inner.wake.notify_one();
            }
        });
        let runner = self.clone();
        inner.tasks.spawn(async move { runner.dispatch().await });
        Ok(requeued + reclaimed)
    }

    /// This node's id.
    pub fn node(&self) -> &str {
        self.inner.lease.node()
    }

    /// How long a node's heartbeat keeps its work (jobs, flow executions) its own.
    pub(crate) fn lease_ttl(&self) -> Duration {
        self.inner.lease.ttl()
    }

    /// Whether this node's lease is fresh enough to take more work.
    pub(crate) fn lease_fresh(&self) -> bool {
        self.inner.lease.fresh()
    }

    /// Which database the jobs are kept in (`sqlite`, `postgres`).
    pub fn store_kind(&self) -> &'static str {
        self.inner.store.kind()
    }

    /// Stops claiming jobs and waits for the running ones to finish. Waiting jobs stay
    /// waiting in the store for the next start.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
        // Renewed until the last running job has ended, so no node takes it meanwhile.
        self.inner.lease.release().await;
    }

    /// Sets an app's admission limits (stored, and in force for the next calls); `None`
    /// fields go back to the defaults.
    pub async fn set_app_limits(&self, app_key: i64, limits: AppLimits) -> Result<(), ServiceError> {
        let invalid = |m: &str| Err(ServiceError::InvalidArgument(m.into()));
        if limits.max_running == Some(0) {
            return invalid("max_running must be at least 1");
        }
        if limits.rate_per_sec.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
            return invalid("rate_per_sec must be a positive number");
        }
        if limits.burst.is_some_and(|b| !(b >= 1.0 && b.is_finite())) {
            return invalid("burst must be at least 1");
        }
        let text = serde_json::to_string(&limits).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.inner.store.set_app_limits(app_key, text).await?;
        self.inner.executor.set_limits(app_key, limits);
        Ok(())
    }

    /// Looks for waiting jobs now (another node queued one).
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Reads an app's limits again (another node changed them).
    pub(crate) async fn reload_limits(&self, app_key: i64) -> Result<(), ServiceError> {
        let stored = self.inner.store.app_limits().await?;
        let text = stored.iter().find(|(app, _)| *app == app_key).map(|(_, text)| text.as_str());
        let limits = match text.map(serde_json::from_str::<AppLimits>) {
            Some(Ok(limits)) => limits,
            Some(Err(error)) => return Err(ServiceError::Internal(format!("app {app_key}'s stored limits: {error}"))),
            None => AppLimits::default(),
        };
        self.inner.executor.set_limits(app_key, limits);
        Ok(())
    }

    /// An app's own limits and the defaults `(max_running, max_queue)` that fill the rest.
    pub fn app_limits(&self, app_key: i64) -> (AppLimits, (usize, usize)) {
        (self.inner.executor.limits(app_key), self.inner.executor.default_limits())
    }

    /// The executor whose slots every guest run takes (bins share it).
    pub fn executor(&self) -> Arc<Executor> {
        self.inner.executor.clone()
    }

    /// `Ok` while the store takes writes; `StorageFull` while it is full.
    pub async fn check_writable(&self) -> Result<(), ServiceError> {
        Ok(self.inner.store.check_writable().await?)
    }

    /// Guests running or queued for a slot.
    pub fn in_flight(&self) -> usize {
        self.inner.executor.in_flight()
    }

    /// Runs the function now and records the finished job (`time_sensitive`). The run
    /// and its record go on when the caller stops waiting (a client that disconnects):
    /// every run leaves its job. With a slot free, the guest starts on a guest thread at
    /// once and that thread queues the job's write, so the only hops are to the guest
    /// thread, to the writer and back to the caller.
    pub async fn invoke_sync(
        &self,
        app_key: i64,
        name: &str,
        input: Json,
        source: &str,
    ) -> Result<JobRecord, ServiceError> {
        let inner = &self.inner;
        let function = inner.functions.get(app_key, name).await?;
        let ticket = inner.executor.try_enter(app_key).map_err(|t| ServiceError::Throttled(t.to_string()))?;
        let module = inner.functions.module(&function.module_sha256).await?;
        let job = new_job(app_key, &function, input, source, true);
        let (reply, recorded) = oneshot::channel();
        match inner.executor.try_slot(app_key) {
            Some(slot) => self.run_sync_in(slot, ticket, module, job, None, reply),
            None => {
                let runner = self.clone();
                tokio::spawn(async move { runner.wait_and_run_sync(ticket, module, job, reply).await });
            }
        }
        let recorded = recorded.await.map_err(|_| ServiceError::Internal("a sync invocation was dropped".into()))?;
        recorded.map_err(|e| match e {
            // The function was deleted while it ran: its job has nowhere to go.
            ServiceError::NotFound { .. } => ServiceError::NotFound {
                kind: "Function",
                what: format!("function {name:?} (deleted while the call ran; its job was not recorded)"),
            },
            other => other,
        })
    }

    /// A sync call that found no free slot: it waits for one until its deadline, and runs
    /// for what is left; one that cannot start in time ends `deadline_exceeded` unrun.
    async fn wait_and_run_sync(self, ticket: Ticket, module: Arc<FunctionModule>, job: NewJob, reply: SyncReply) {
        let timeout = millis(job.timeout_ms);
        let queued_at = Instant::now();
        match self.inner.executor.slot(&ticket, Some(queued_at + timeout)).await {
            Some(slot) => {
                let left = timeout.saturating_sub(queued_at.elapsed());
                self.run_sync_in(slot, ticket, module, job, Some(left), reply);
            }
            None => {
                let message =
                    format!("no slot came free within the {} ms deadline; the call did not run", job.timeout_ms);
                let outcome = not_run(FailedStatus::DeadlineExceeded, "DeadlineExceeded", message, now_us());
                count_job(self.inner.executor.metrics(), Caller::Invoke, job.service_type, &outcome);
                self.record_sync(job, outcome, reply);
            }
        }
    }

    /// Runs a sync call's guest in `slot` on a guest thread, which then queues its record.
    fn run_sync_in(
        &self,
        slot: Slot,
        ticket: Ticket,
        module: Arc<FunctionModule>,
        job: NewJob,
        within: Option<Duration>,
        reply: SyncReply,
    ) {
        let runner = self.clone();
        self.run_in(slot, ticket, module, job, Caller::Invoke, within, move |job, outcome| {
            runner.record_sync(job, outcome, reply);
        });
    }

    /// Queues a sync call's finished job for the store; `reply` hears the record once it
    /// is committed.
    fn record_sync(&self, job: NewJob, outcome: JobOutcome, reply: SyncReply) {
        let record = JobRecord::finished(0, &job, &outcome);
        let written = move |id: Result<i64, crate::store::StoreError>| {
            let _ = reply.send(id.map(|id| JobRecord { id, ..record }).map_err(ServiceError::from));
        };
        self.inner.store.clone().submit_finished_job(job, outcome, Box::new(written));
    }

    /// Runs the function for work already accepted (a flow's task) and hands the finished
    /// job (`time_sensitive`) to `done`, not recorded: the caller writes it with its own
    /// next transaction. It waits for a slot instead of being throttled. When the
    /// function and its module are cached and a slot is free, the guest starts on a guest
    /// thread at once and `done` runs there, with no async task on the way in or out (a
    /// flow step's critical path); otherwise it goes the async way.
    pub fn spawn_accepted(
        &self,
        app_key: i64,
        name: &str,
        input: Json,
        source: &'static str,
        done: impl FnOnce(Result<(NewJob, JobOutcome), ServiceError>) + Send + 'static,
    ) {
        let inner = &self.inner;
        let function = inner.functions.cached(app_key, name);
        let module = function.as_ref().and_then(|f| inner.engine.cached_function(&f.module_sha256));
        if let (Some(function), Some(module)) = (function, module)
            && let Some(slot) = inner.executor.try_slot(app_key)
        {
            let job = new_job(app_key, &function, input, source, true);
            let ticket = inner.executor.enter(app_key);
            self.run_in(slot, ticket, module, job, Caller::Flow, None, move |job, outcome| done(Ok((job, outcome))));
            return;
        }
        let (runner, name) = (self.clone(), name.to_string());
        tokio::spawn(async move { done(runner.run_accepted(app_key, &name, input, source).await) });
    }

    /// [`JobRunner::spawn_accepted`]'s async way: look the function up, wait for a slot.
    async fn run_accepted(
        &self,
        app_key: i64,
        name: &str,
        input: Json,
        source: &str,
    ) -> Result<(NewJob, JobOutcome), ServiceError> {
        let inner = &self.inner;
        let function = inner.functions.get(app_key, name).await?;
        let ticket = inner.executor.enter(app_key);
        let module = inner.functions.module(&function.module_sha256).await?;
        let job = new_job(app_key, &function, input, source, true);
        self.execute(ticket, module, job, Caller::Flow).await.map_err(|unrun| {
            ServiceError::Internal(unrun.end.failure().map_or_else(String::new, |f| f.message.clone()))
        })
    }

    /// Runs `job` in `slot` on a guest thread through [`run_job`], then hands it with its
    /// outcome to `done` on that thread.
    #[allow(clippy::too_many_arguments)]
    fn run_in(
        &self,
        slot: Slot,
        ticket: Ticket,
        module: Arc<FunctionModule>,
        job: NewJob,
        caller: Caller,
        within: Option<Duration>,
        done: impl FnOnce(NewJob, JobOutcome) + Send + 'static,
    ) {
        let (engine, executor) = (self.inner.engine.clone(), self.inner.executor.clone());
        let work = move || {
            let outcome = run_job(&engine, executor.metrics(), &module, &job, caller, within);
            (job, outcome)
        };
        self.inner.executor.spawn_in(slot, ticket, work, move |(job, outcome)| done(job, outcome));
    }

    /// Runs accepted work (an async job, a flow task on the async way): it waits for a
    /// slot as long as it takes, then gets its whole deadline. `Err` is the outcome of a
    /// run that ended without a report (its guest thread panicked), not yet counted.
    async fn execute(
        &self,
        ticket: Ticket,
        module: Arc<FunctionModule>,
        job: NewJob,
        caller: Caller,
    ) -> Result<(NewJob, JobOutcome), JobOutcome> {
        let slot = self.inner.executor.wait_slot(&ticket).await;
        let (tx, rx) = oneshot::channel();
        self.run_in(slot, ticket, module, job, caller, None, move |job, outcome| {
            let _ = tx.send((job, outcome));
        });
        rx.await.map_err(|_| {
            let message = "the guest run ended without a report (the host failed)".to_string();
            not_run(FailedStatus::ExecutionFailed, "InternalError", message, now_us())
        })
    }

    /// Records a waiting job (`batch`) and wakes the dispatcher; returns the job id.
    pub async fn submit_async(&self, app_key: i64, name: &str, input: Json, source: &str) -> Result<i64, ServiceError> {
        let inner = &self.inner;
        let function = inner.functions.get(app_key, name).await?;
        inner.executor.check_rate(app_key).map_err(|t| ServiceError::Throttled(t.to_string()))?;
        if let Err(waiting) = inner.backlog.admit().await? {
            inner.executor.metrics().throttled(app_key);
            return Err(ServiceError::Throttled(format!("{waiting} async jobs are already waiting; try again later")));
        }
        let job = new_job(app_key, &function, input, source, false);
        let id = inner.store.insert_waiting_job(job).await?;
        inner.wake.notify_one();
        Ok(id)
    }

    /// One job of the app.
    pub async fn job(&self, app_key: i64, id: i64) -> Result<JobRecord, ServiceError> {
        self.inner.store.get_job(app_key, id).await?.ok_or_else(|| job_not_found(id))
    }

    /// A job's log (empty while it has not finished).
    pub async fn log(&self, app_key: i64, id: i64) -> Result<String, ServiceError> {
        self.job(app_key, id).await?;
        Ok(self.inner.store.job_log(app_key, id).await?.unwrap_or_default())
    }

    /// A page of a function's jobs, newest first, and the total.
    pub async fn list(
        &self,
        app_key: i64,
        name: &str,
        filter: JobFilter,
        page: PageRequest,
    ) -> Result<(Vec<JobRecord>, i64), ServiceError> {
        let function = self.inner.functions.get(app_key, name).await?;
        Ok(self.inner.store.list_jobs(function.id, filter, page).await?)
    }

    /// The app's latest jobs at a glance: counts by status since `since` (µs), the latest failures.
    pub async fn overview(&self, app_key: i64, since: i64, failures: i64) -> Result<JobOverview, ServiceError> {
        Ok(self.inner.store.job_overview(app_key, since, failures).await?)
    }

    /// The Prometheus text exposition of the runner's metrics.
    pub async fn metrics(&self) -> String {
        let waiting = self.inner.store.count_waiting().await.unwrap_or(-1);
        self.inner.executor.metrics().render(self.inner.executor.in_flight(), waiting)
    }
}

fn job_not_found(id: i64) -> ServiceError {
    ServiceError::NotFound { kind: "Job", what: format!("job {id}") }
}
