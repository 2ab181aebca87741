//! Jobs: sync invocations (run now, record the finished job) and async ones (record a
//! waiting job durably, answer, and let the dispatcher run it). The dispatcher claims
//! waiting jobs from the store as slots free up, so a job accepted before a restart runs
//! after it: jobs left executing by a stopped process are requeued at start (at-least-
//! once start; the terminal record is written once).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::executor::Ticket;
use super::metrics::Metrics;
use super::outcome::{job_outcome, not_run};
use super::{AppLimits, Executor};
use crate::engine::{DEFAULT_LOG_BYTES, Engine, FunctionModule, Limits};
use crate::error::ServiceError;
use crate::functions::{Functions, millis};
use crate::store::{
    FunctionRecord, JobFilter, JobOutcome, JobRecord, JobStatus, NewJob, PageRequest, ServiceType, Store,
};
use crate::time::now_us;

/// How often the dispatcher looks for waiting jobs when nobody wakes it.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

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
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self { max_concurrency: 16, max_queue: 64, max_waiting_jobs: 100_000, app_share: 0.75 }
    }
}

/// Runs functions as jobs.
#[derive(Clone)]
pub struct JobRunner {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    engine: Engine,
    functions: Functions,
    executor: Arc<Executor>,
    config: RunnerConfig,
    wake: Notify,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner; call [`JobRunner::start`] to run async jobs.
    pub fn new(store: Arc<dyn Store>, engine: Engine, functions: Functions, config: RunnerConfig) -> Self {
        let executor = Arc::new(Executor::new(config.max_concurrency, config.max_queue, config.app_share));
        let inner = Inner {
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

    /// Requeues jobs a previous process left executing, then starts the dispatcher.
    pub async fn start(&self) -> Result<u64, ServiceError> {
        for (app_key, text) in self.inner.store.app_limits().await? {
            match serde_json::from_str::<AppLimits>(&text) {
                Ok(limits) => self.inner.executor.set_limits(app_key, limits),
                Err(error) => tracing::error!(app_key, %error, "stored app limits do not parse; defaults apply"),
            }
        }
        let requeued = self.inner.store.requeue_executing().await?;
        if requeued > 0 {
            tracing::warn!(requeued, "requeued jobs that were executing when the server stopped");
        }
        let runner = self.clone();
        self.inner.tasks.spawn(async move { runner.dispatch().await });
        Ok(requeued)
    }

    /// Stops claiming jobs and waits for the running ones to finish. Waiting jobs stay
    /// waiting in the store for the next start.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
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
    /// every run leaves its job.
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
        let (runner, source) = (self.clone(), source.to_string());
        let run = tokio::spawn(async move { runner.run_now(app_key, &function, ticket, input, &source).await });
        let recorded = run.await.map_err(|e| ServiceError::Internal(format!("a sync invocation failed: {e}")))?;
        recorded.map_err(|e| match e {
            // The function was deleted while it ran: its job has nowhere to go.
            ServiceError::NotFound { .. } => ServiceError::NotFound {
                kind: "Function",
                what: format!("function {name:?} (deleted while the call ran; its job was not recorded)"),
            },
            other => other,
        })
    }

    /// Runs the function for work already accepted (a flow's task): it waits for a slot
    /// instead of being throttled. The finished job (`time_sensitive`) is returned, not
    /// recorded: the caller writes it with its own next transaction.
    pub async fn run_accepted(
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
        let outcome = self.execute(ticket, module, &job.input, job.memory_limit, job.timeout_ms, false).await;
        self.count(&job.source, job.service_type.as_str(), &outcome);
        Ok((job, outcome))
    }

    /// Like [`JobRunner::run_accepted`], but hands the finished job to `done` instead of
    /// returning it. When the function and its module are cached and a slot is free, the
    /// guest starts on a blocking thread at once and `done` runs there, with no async task
    /// on the way in or out (a flow step's critical path); otherwise it goes the async way.
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
            let (engine, limits) = (inner.engine.clone(), limits_of(job.memory_limit, job.timeout_ms));
            let runner = self.clone();
            let work = move || {
                let started_at = now_us();
                let inv = engine.invoke(&module, &job.input, &limits);
                (job, inv, started_at)
            };
            Executor::spawn_in(slot, inner.executor.enter(app_key), work, move |(job, inv, started_at)| {
                let outcome = job_outcome(inv, started_at);
                runner.count(&job.source, job.service_type.as_str(), &outcome);
                done(Ok((job, outcome)));
            });
            return;
        }
        let (runner, name) = (self.clone(), name.to_string());
        tokio::spawn(async move { done(runner.run_accepted(app_key, &name, input, source).await) });
    }

    async fn run_now(
        &self,
        app_key: i64,
        function: &FunctionRecord,
        ticket: Ticket,
        input: Json,
        source: &str,
    ) -> Result<JobRecord, ServiceError> {
        let inner = &self.inner;
        let module = inner.functions.module(&function.module_sha256).await?;
        let job = new_job(app_key, function, input, source, true);
        let outcome = self.execute(ticket, module, &job.input, job.memory_limit, job.timeout_ms, true).await;
        self.count("invoke", job.service_type.as_str(), &outcome);
        let mut record = JobRecord::finished(0, &job, &outcome);
        record.id = inner.store.insert_finished_job(job, outcome).await?;
        Ok(record)
    }

    /// Records a waiting job (`batch`) and wakes the dispatcher; returns the job id.
    pub async fn submit_async(&self, app_key: i64, name: &str, input: Json, source: &str) -> Result<i64, ServiceError> {
        let inner = &self.inner;
        let function = inner.functions.get(app_key, name).await?;
        inner.executor.check_rate(app_key).map_err(|t| ServiceError::Throttled(t.to_string()))?;
        let waiting = inner.store.count_waiting().await?;
        if waiting >= inner.config.max_waiting_jobs {
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

    /// The Prometheus text exposition of the runner's metrics.
    pub async fn metrics(&self) -> String {
        let waiting = self.inner.store.count_waiting().await.unwrap_or(-1);
        self.inner.executor.metrics().render(self.inner.executor.in_flight(), waiting)
    }

    /// Counts a finished run of `caller` (`invoke`, `job`, or an accepted run's source).
    fn count(&self, caller: &str, service_type: &str, outcome: &JobOutcome) {
        count_job(self.inner.executor.metrics(), caller, service_type, outcome);
    }

    /// Runs `module` on `input` in a slot, under the job's memory cap and deadline. For a
    /// sync call (`wait_counts`), the wait for a slot counts against the deadline: a call
    /// that cannot start in time ends `deadline_exceeded` without running, and one that
    /// waited runs for what is left. Accepted work (async jobs, flow tasks) waits as long
    /// as it takes and then gets its whole deadline.
    async fn execute(
        &self,
        ticket: Ticket,
        module: Arc<FunctionModule>,
        input: &Json,
        memory_limit: i64,
        timeout_ms: i64,
        wait_counts: bool,
    ) -> JobOutcome {
        let limits = limits_of(memory_limit, timeout_ms);
        let queued_at = Instant::now();
        let wait_until = wait_counts.then(|| queued_at + limits.timeout);
        let Some(slot) = self.inner.executor.slot(&ticket, wait_until).await else {
            let message = format!("no slot came free within the {} ms deadline; the call did not run", timeout_ms);
            return not_run(JobStatus::DeadlineExceeded, "DeadlineExceeded", message, now_us());
        };
        let waited = if wait_counts { queued_at.elapsed() } else { Duration::ZERO };
        let limits = Limits { timeout: limits.timeout.saturating_sub(waited), ..limits };
        let (engine, input) = (self.inner.engine.clone(), input.clone());
        let (inv, started_at) = Executor::run_in(slot, ticket, move || {
            let started_at = now_us();
            (engine.invoke(&module, &input, &limits), started_at)
        })
        .await;
        job_outcome(inv, started_at)
    }

    async fn dispatch(&self) {
        let inner = &self.inner;
        loop {
            let free = inner.executor.free_slots();
            if free > 0 {
                let skip = inner.executor.saturated_apps();
                match inner.store.claim_jobs(free, &skip, now_us()).await {
                    Ok(jobs) => {
                        let claimed = jobs.len();
                        for job in jobs {
                            let runner = self.clone();
                            inner.tasks.spawn(async move { runner.run_claimed(job).await });
                        }
                        if claimed == free {
                            tokio::task::yield_now().await;
                            continue;
                        }
                    }
                    Err(error) => tracing::error!(%error, "claiming waiting jobs failed"),
                }
            }
            tokio::select! {
                () = inner.stop.cancelled() => return,
                () = inner.wake.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    async fn run_claimed(&self, job: JobRecord) {
        let inner = &self.inner;
        let outcome = match inner.functions.module(&job.module_sha256).await {
            Ok(module) => {
                let ticket = inner.executor.enter(job.app_key);
                self.execute(ticket, module, &job.input, job.memory_limit, job.timeout_ms, false).await
            }
            Err(error) => not_run(JobStatus::ScheduleFailed, "ScheduleFailed", error.to_string(), now_us()),
        };
        self.count("job", job.service_type.as_str(), &outcome);
        self.record_end(job.id, outcome).await;
        inner.wake.notify_one();
    }

    /// Writes a claimed job's end, retrying until it lands: the whole outcome a few
    /// times, then only its status and why the rest was not stored (a smaller write, more
    /// likely to fit a full disk). A job whose end never lands before the server stops
    /// stays `executing` and runs again at the next start.
    async fn record_end(&self, id: i64, outcome: JobOutcome) {
        let store = &self.inner.store;
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0u32;
        loop {
            let write = if attempt < FULL_OUTCOME_ATTEMPTS {
                store.finish_job(id, outcome.clone()).await
            } else {
                store.finish_job(id, unstored(&outcome, attempt)).await
            };
            let Err(error) = write else { return };
            tracing::error!(job = id, attempt, %error, "recording a finished job failed; retrying");
            attempt += 1;
            tokio::select! {
                () = self.inner.stop.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(MAX_RECORD_DELAY);
        }
    }
}

/// Attempts at storing a job's whole outcome before only its failure is stored.
const FULL_OUTCOME_ATTEMPTS: u32 = 5;
/// Longest pause between attempts at recording a job's end.
const MAX_RECORD_DELAY: Duration = Duration::from_secs(5);

/// The outcome stored when the whole one could not be: the job failed, its output and
/// log are gone, and the error says so.
fn unstored(outcome: &JobOutcome, attempts: u32) -> JobOutcome {
    JobOutcome {
        status: JobStatus::ExecutionFailed,
        output: None,
        error_code: Some("ResultNotStored".into()),
        error_message: Some(format!(
            "the job ended ({}) but its result could not be stored after {attempts} attempts",
            outcome.status.as_str()
        )),
        log: String::new(),
        ..outcome.clone()
    }
}

fn job_not_found(id: i64) -> ServiceError {
    ServiceError::NotFound { kind: "Job", what: format!("job {id}") }
}

/// A job's guest limits.
/// The limits a job's record says it ran under.
pub(crate) fn limits_of(memory_limit: i64, timeout_ms: i64) -> Limits {
    Limits {
        memory_bytes: u64::try_from(memory_limit).unwrap_or(0),
        timeout: millis(timeout_ms),
        log_bytes: DEFAULT_LOG_BYTES,
    }
}

/// A job of `function` as accepted now: sync (`time_sensitive`) or async (`batch`).
pub(crate) fn new_job(app_key: i64, function: &FunctionRecord, input: Json, source: &str, sync: bool) -> NewJob {
    NewJob {
        app_key,
        function_id: function.id,
        version: function.version,
        module_sha256: function.module_sha256.clone(),
        memory_limit: i64::try_from(function.plan.memory_bytes()).unwrap_or(i64::MAX),
        source: source.to_string(),
        service_type: if sync { ServiceType::TimeSensitive } else { ServiceType::Batch },
        input,
        timeout_ms: if sync { function.sync_timeout_ms } else { function.async_timeout_ms },
        created_at: now_us(),
    }
}

/// Counts a finished run in `metrics` (the function calls of a bin's run count here too).
pub(crate) fn count_job(metrics: &Metrics, caller: &str, service_type: &str, outcome: &JobOutcome) {
    let seconds = (outcome.finished_at - outcome.started_at) as f64 / 1e6;
    metrics.invocation(caller, service_type, outcome.status.as_str(), outcome.error_code.as_deref(), seconds);
}
