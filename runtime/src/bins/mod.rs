//! Bins and their execution instances: upload a bin (its manifest is read from the
//! component), create instances, run them with variable updates (one run at a time per
//! instance, committed whole or not at all), read variables and state-machine paths,
//! destroy them; and the app's function-key bindings the runs call through.

mod lists;
mod services;
pub mod var_updates;

pub use cloudexec_engine::updates::parse_updates;
pub use services::category_of;

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::Mutex;

use crate::egress::{EgressPolicy, check_url};
use crate::engine::MAX_VARIABLES;
use crate::engine::{BinModule, BinRun, Engine, InstanceState, Limits, RunOptions, TypedValue};
use crate::error::ServiceError;
use crate::functions::Functions;
use crate::ids::new_id;
use crate::modules::{load_and_store, load_stored};
use crate::runs::{Caller, Executor, resolver};
use crate::store::{
    BinRecord, Binding, BindingTarget, InstanceRecord, InstanceStatus, JobOutcome, JobStatus, NewJob, ServiceType,
    Store,
};
use crate::time::now_us;

pub use resolver::SOURCE_BIN;

/// The bins service.
#[derive(Clone)]
pub struct Bins {
    store: Arc<dyn Store>,
    engine: Engine,
    functions: Functions,
    executor: Arc<Executor>,
    /// One lock per instance being run, so two runs of one instance never interleave.
    locks: Arc<DashMap<String, Arc<Mutex<()>>>>,
    /// The one pooled agent URL bindings are called with, under the egress policy.
    agent: ureq::Agent,
    /// Delivers runs' variable updates to the apps' engine layers (seed 000, 4.2).
    var_updates: Arc<var_updates::VarUpdates>,
}

impl std::fmt::Debug for Bins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bins").finish_non_exhaustive()
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The instance after the run (unchanged when the run trapped or hit a limit).
    pub instance: InstanceRecord,
    /// The engine's report.
    pub run: BinRun,
}

fn instance_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound { kind: "Instance", what: format!("execution instance {id:?}") }
}

/// The limits of a bin's run: the sync deadline and memory of the free plan, whoever the
/// caller (the policy lives here, not in the HTTP handlers).
fn run_limits() -> Limits {
    Limits::default()
}

impl Bins {
    /// The service; runs take slots of `executor`, shared with function invocations, and
    /// URL bindings are called under `egress`.
    pub fn new(
        store: Arc<dyn Store>,
        engine: Engine,
        functions: Functions,
        executor: Arc<Executor>,
        egress: &EgressPolicy,
    ) -> Self {
        let agent = egress.agent(ureq::Agent::config_builder().http_status_as_error(false).proxy(None).build());
        let client = egress.client(std::time::Duration::from_secs(5));
        let var_updates = var_updates::VarUpdates::new(store.clone(), client, executor.clone());
        Self { store, engine, functions, executor, locks: Arc::new(DashMap::new()), agent, var_updates }
    }

    /// Starts delivering variable updates (call once, inside the runtime).
    pub fn start_deliveries(&self) {
        self.var_updates.spawn();
    }

    /// Sets or clears the app's engine-layer URL for variable updates (seed 000, 4.2).
    pub async fn set_var_update_url(&self, app_key: i64, url: Option<String>) -> Result<(), ServiceError> {
        if let Some(url) = &url {
            check_url("varUpdateUrl", url).map_err(|e| ServiceError::InvalidArgument(e.0))?;
        }
        Ok(self.store.put_var_update_url(app_key, url).await?)
    }

    /// The app's engine-layer URL for variable updates.
    pub async fn var_update_url(&self, app_key: i64) -> Result<Option<String>, ServiceError> {
        Ok(self.store.var_update_url(app_key).await?)
    }

    /// The latest variable-update deliveries of an instance of the app, newest first.
    pub async fn deliveries(&self, app_key: i64, id: &str) -> Result<Vec<crate::store::VarDelivery>, ServiceError> {
        self.instance(app_key, id).await?;
        Ok(self.store.list_var_deliveries(app_key, id, 100).await?)
    }

    /// Validates the component as a bin, reads its manifest, stores it; returns its record.
    /// `get_var_url` is the bin's seed 000 `getVarUrl` (an http(s) URL), kept in its
    /// manifest: reads of variables its instances lack are asked there (4.3).
    pub async fn upload(
        &self,
        app_key: i64,
        wasm: Vec<u8>,
        get_var_url: Option<String>,
    ) -> Result<BinRecord, ServiceError> {
        if let Some(url) = &get_var_url {
            check_url("getVarUrl", url).map_err(|e| ServiceError::InvalidArgument(e.0))?;
        }
        let (sha, module) = load_and_store(self.store.as_ref(), &self.engine, wasm, Engine::load_bin).await?;
        let mut manifest = module.manifest.as_ref().clone();
        manifest.get_var_url = get_var_url;
        let bin = BinRecord { id: new_id()?, app_key, module_sha256: sha, manifest, created_at: now_us() };
        self.store.create_bin(bin.clone()).await?;
        Ok(bin)
    }

    /// Which compiler's code of `bin` runs on this node, if it is loaded here.
    pub fn code_tier(&self, bin: &BinRecord) -> Option<&'static str> {
        self.engine.cached_bin(&bin.module_sha256).map(|module| module.tier().as_str())
    }

    /// A bin of the app.
    pub async fn bin(&self, app_key: i64, id: &str) -> Result<BinRecord, ServiceError> {
        self.store
            .get_bin(app_key, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "Bin", what: format!("bin {id:?}") })
    }

    /// A new instance of a bin: no variables, machines in their initial states.
    pub async fn create_instance(
        &self,
        app_key: i64,
        bin_id: &str,
    ) -> Result<(InstanceRecord, BinRecord), ServiceError> {
        self.new_instance(app_key, bin_id, None).await
    }

    async fn new_instance(
        &self,
        app_key: i64,
        bin_id: &str,
        service: Option<String>,
    ) -> Result<(InstanceRecord, BinRecord), ServiceError> {
        let bin = self.bin(app_key, bin_id).await?;
        let now = now_us();
        let instance = InstanceRecord {
            id: new_id()?,
            app_key,
            bin_id: bin.id.clone(),
            status: InstanceStatus::Created,
            state: InstanceState::new(&bin.manifest),
            runs: 0,
            last_error: None,
            service,
            created_at: now,
            updated_at: now,
        };
        self.store.create_instance(instance.clone()).await?;
        Ok((instance, bin))
    }

    /// A live instance of the app.
    pub async fn instance(&self, app_key: i64, id: &str) -> Result<InstanceRecord, ServiceError> {
        self.store.get_instance(app_key, id).await?.ok_or_else(|| instance_not_found(id))
    }

    /// Destroys an instance; later calls on it are 404.
    pub async fn destroy(&self, app_key: i64, id: &str) -> Result<(), ServiceError> {
        match self.locked(id, self.store.destroy_instance(app_key, id)).await? {
            true => Ok(()),
            false => Err(instance_not_found(id)),
        }
    }

    /// Runs an instance once with `updates`: the whole run is committed, or nothing when
    /// the guest trapped or hit a limit. Runs of one instance wait for each other.
    pub async fn run(
        &self,
        app_key: i64,
        id: &str,
        updates: Vec<(String, TypedValue)>,
    ) -> Result<RunReport, ServiceError> {
        self.locked(id, async {
            // Another node may commit a run of this instance while ours runs: ours then
            // runs again on the new state (runs of one instance serialize through the
            // store's compare-and-set, so no update is lost).
            let mut attempt = 0u32;
            loop {
                match self.run_locked(app_key, id, updates.clone(), run_limits()).await? {
                    Some(report) => return Ok(report),
                    None if attempt < MAX_RUN_ATTEMPTS => {
                        attempt += 1;
                        tracing::debug!(instance = id, attempt, "another run committed first; running again");
                        tokio::time::sleep(retry_pause(attempt)).await;
                    }
                    None => {
                        return Err(ServiceError::Throttled(format!(
                            "instance {id} kept changing under {MAX_RUN_ATTEMPTS} runs in a row; try again"
                        )));
                    }
                }
            }
        })
        .await
    }

    /// A run, with the instance's lock held by the caller; `None` when another run (on
    /// another node) committed since this one read the instance, so nothing was stored.
    async fn run_locked(
        &self,
        app_key: i64,
        id: &str,
        updates: Vec<(String, TypedValue)>,
        limits: Limits,
    ) -> Result<Option<RunReport>, ServiceError> {
        let mut instance = self.instance(app_key, id).await?;
        let new_keys = updates.iter().filter(|(key, _)| !instance.state.variables.contains_key(key)).count();
        if instance.state.variables.len() + new_keys > MAX_VARIABLES {
            return Err(ServiceError::InvalidArgument(format!(
                "the run would give the instance {} variables; at most {MAX_VARIABLES} are kept",
                instance.state.variables.len() + new_keys
            )));
        }
        if let Some(alias) = &instance.service {
            self.live_service(app_key, alias).await?;
        }
        let bin = self.bin(app_key, &instance.bin_id).await?;
        let module = self.module(&bin.module_sha256).await?;
        let jobs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let options = self.run_options(app_key, id, &bin, jobs.clone()).await?;
        let var_update_url = self.store.var_update_url(app_key).await?;
        let sent = if var_update_url.is_some() { updates.clone() } else { Vec::new() };
        let ticket = self.executor.try_enter(app_key).map_err(|t| ServiceError::Throttled(t.to_string()))?;
        let (engine, state) = (self.engine.clone(), instance.state.clone());
        let mut run =
            self.executor.run(ticket, move || engine.run_bin(&module, &state, updates, options, &limits)).await;
        self.record(&run, &jobs).await;
        if run.state.is_some() && !self.commit(&mut instance, &mut run, &sent, var_update_url.as_deref()).await? {
            return Ok(None);
        }
        Ok(Some(RunReport { instance, run }))
    }

    /// A run's options: the app's bindings, the functions they name, the bin's `getVarUrl`;
    /// the calls' job records go to `jobs`.
    async fn run_options(
        &self,
        app_key: i64,
        id: &str,
        bin: &BinRecord,
        jobs: Arc<std::sync::Mutex<Vec<(NewJob, JobOutcome)>>>,
    ) -> Result<RunOptions, ServiceError> {
        let bindings: HashMap<_, _> =
            self.store.list_bindings(app_key).await?.into_iter().map(|b| (b.function_key, b.target)).collect();
        let resolver = resolver::AppResolver {
            app_key,
            functions: self.bound_functions(app_key, &bindings).await,
            bindings,
            engine: self.engine.clone(),
            agent: self.agent.clone(),
            executor: self.executor.clone(),
            jobs,
            get_var_url: bin.manifest.get_var_url.clone(),
        };
        Ok(RunOptions { resolver: Some(Arc::new(resolver)), instance_id: Some(id.to_string()) })
    }

    /// Counts the run in `/metrics` and writes the job records of its function calls.
    async fn record(&self, run: &BinRun, jobs: &std::sync::Mutex<Vec<(NewJob, JobOutcome)>>) {
        let (status, error) = match &run.result {
            Ok(_) => (JobStatus::Fulfilled, None),
            Err(e) => (JobStatus::ExecutionFailed, Some(e.kind())),
        };
        let seconds = run.duration.as_secs_f64();
        self.executor.metrics().invocation(Caller::Bin, ServiceType::TimeSensitive, status, error, seconds);
        let calls = jobs.lock().map(|mut j| std::mem::take(&mut *j)).unwrap_or_default();
        for (job, outcome) in calls {
            if let Err(error) = self.store.insert_finished_job(job, outcome).await {
                tracing::error!(%error, "recording a bin's function call failed");
            }
        }
    }

    /// Commits the state the run left (`run.state`, present) with the variable updates it
    /// made for the engine layer at `url`; false when another run committed first.
    async fn commit(
        &self,
        instance: &mut InstanceRecord,
        run: &mut BinRun,
        sent: &[(String, TypedValue)],
        url: Option<&str>,
    ) -> Result<bool, ServiceError> {
        let Some(state) = run.state.clone() else { return Ok(false) };
        let queued = match url {
            Some(url) => {
                let changed = var_updates::changed(&instance.state.variables, sent, &state.variables);
                var_updates::deliveries(instance.app_key, &instance.id, url, &changed)
            }
            None => Vec::new(),
        };
        let count = queued.len();
        instance.state = state;
        instance.status = if run.result.is_ok() { InstanceStatus::Idle } else { InstanceStatus::Failed };
        instance.last_error = run.result.as_ref().err().map(ToString::to_string);
        if !self.store.commit_run(instance.clone(), queued).await? {
            return Ok(false);
        }
        instance.runs += 1;
        if let (true, Some(url)) = (count > 0, url) {
            self.var_updates.wake();
            let line = format!("[INFO] {count} variable update(s) queued for the engine layer at {url}\n");
            run.log.text.push_str(&line);
        }
        Ok(true)
    }

    /// The functions `bindings` name, with their modules, looked up now so that the run's
    /// thread never waits on the async side (a function gone meanwhile has no entry: its
    /// calls fail).
    async fn bound_functions(
        &self,
        app_key: i64,
        bindings: &HashMap<String, BindingTarget>,
    ) -> HashMap<String, resolver::Bound> {
        let mut found = HashMap::new();
        for target in bindings.values() {
            let BindingTarget::Function(name) = target else { continue };
            if found.contains_key(name) {
                continue;
            }
            let Ok(function) = self.functions.get(app_key, name).await else { continue };
            match self.functions.module(&function.module_sha256).await {
                Ok(module) => drop(found.insert(name.clone(), (function, module))),
                Err(error) => tracing::warn!(%error, function = %name, "a bound function's module did not load"),
            }
        }
        found
    }

    /// Binds a function key of the app to a cloud function or URL.
    pub async fn bind(&self, app_key: i64, binding: Binding) -> Result<(), ServiceError> {
        if binding.function_key.trim().is_empty() {
            return Err(ServiceError::InvalidArgument("a functionKey must not be empty".into()));
        }
        if let BindingTarget::Url(url) = &binding.target {
            check_url("url", url).map_err(|e| ServiceError::InvalidArgument(e.0))?;
        }
        Ok(self.store.put_binding(app_key, binding).await?)
    }

    /// The app's bindings.
    pub async fn bindings(&self, app_key: i64) -> Result<Vec<Binding>, ServiceError> {
        Ok(self.store.list_bindings(app_key).await?)
    }

    /// Runs `work` holding instance `id`'s lock, then forgets the lock if nobody else
    /// waits for it, so the map does not grow with every instance ever run.
    async fn locked<T>(&self, id: &str, work: impl Future<Output = T>) -> T {
        let lock = self.locks.entry(id.to_string()).or_default().clone();
        let held = lock.lock().await;
        let out = work.await;
        drop(held);
        // Two references: the map's and `lock`; more means another caller is waiting.
        self.locks.remove_if(id, |_, entry| Arc::strong_count(entry) <= 2);
        out
    }

    async fn module(&self, sha256: &str) -> Result<Arc<BinModule>, ServiceError> {
        if let Some(module) = self.engine.cached_bin(sha256) {
            return Ok(module);
        }
        load_stored(self.store.as_ref(), &self.engine, sha256, Engine::load_bin).await
    }
}

/// Runs of an instance that may lose the race to another node's run before one gives up.
const MAX_RUN_ATTEMPTS: u32 = 100;

/// The pause before running again after losing a race: growing, with jitter, so runs
/// racing on several nodes spread out.
fn retry_pause(attempt: u32) -> std::time::Duration {
    let jitter = crate::ids::random::<1>("a pause").map_or(0, |b| u64::from(b[0] % 10));
    std::time::Duration::from_millis(u64::from(attempt.min(20)) * 2 + jitter)
}
