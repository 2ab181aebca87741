//! Persistence behind one async trait: apps, tokens, modules, functions and their
//! versions, jobs and job logs. SQLite ([`sqlite::SqliteStore`]) is the embedded default;
//! the schema keeps to types PostgreSQL has too, so a second implementation can follow.

mod bins_types;
mod deliveries_types;
mod flows_types;
mod jobs_types;
mod notices;
mod overview_types;
pub mod postgres;
pub mod sqlite;
mod types;

use async_trait::async_trait;

pub use bins_types::*;
pub use deliveries_types::*;
pub use flows_types::*;
pub use jobs_types::*;
pub use notices::*;
pub use overview_types::*;
pub use types::*;

/// What can go wrong in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique name is taken (e.g. a function name within an app): `kind` names what
    /// (`Function`, `Flow`, `Execution`, `Token`), `what` which one.
    #[error("{what} already exists")]
    AlreadyExists {
        /// What kind of thing.
        kind: &'static str,
        /// Which one.
        what: String,
    },
    /// The row to change does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The database or the disk under it is full: nothing of the write was stored.
    #[error("storage full: {0}")]
    Full(String),
    /// The row is leased by another node (an execution another node took over): the
    /// write was refused and nothing changed.
    #[error("{0} is driven by another node")]
    LeaseLost(String),
    /// The database failed; the message is for the log, not the client.
    #[error("database error: {0}")]
    Database(String),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Told the id of a job written by [`Store::submit_finished_job`], once committed.
pub type JobWritten = Box<dyn FnOnce(StoreResult<i64>) + Send>;

/// Everything cloudexec keeps. Every query that reads or changes an app's resource takes
/// the app's key, so one app can never reach another's rows.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which database this is (`sqlite`, `postgres`), for `/healthz`.
    fn kind(&self) -> &'static str;
    /// Creates an app; its key is assigned by the store.
    async fn create_app(&self, name: &str) -> StoreResult<App>;
    /// The first app, created as `name` when there is none: one app however many nodes
    /// start at once on an empty database.
    async fn first_app(&self, name: &str) -> StoreResult<App>;
    /// All apps, by key.
    async fn list_apps(&self) -> StoreResult<Vec<App>>;
    /// One app.
    async fn get_app(&self, app_key: i64) -> StoreResult<Option<App>>;
    /// Records an issued token by its hash (the token itself is never stored); its id.
    async fn insert_token(&self, token_hash: &str, grant: TokenGrant) -> StoreResult<i64>;
    /// Makes this the start token of `grant`: the start tokens of that grant the previous
    /// start recorded are deleted (their hashes are returned); `AlreadyExists` when the
    /// token already grants something else.
    async fn replace_start_token(&self, token_hash: &str, grant: TokenGrant, node: &str) -> StoreResult<Vec<String>>;
    /// An app's tokens, oldest first.
    async fn list_tokens(&self, app_key: i64) -> StoreResult<Vec<TokenInfo>>;
    /// Deletes an app's token by id; returns its hash, or `None` when the app has no such token.
    async fn delete_token(&self, app_key: i64, id: i64) -> StoreResult<Option<String>>;
    /// `Ok` when writes go through; [`StoreError::Full`] while the database or disk is full.
    async fn check_writable(&self) -> StoreResult<()>;
    /// Stores an app's admission limits (JSON text).
    async fn set_app_limits(&self, app_key: i64, limits: String) -> StoreResult<()>;
    /// Every app's stored admission limits.
    async fn app_limits(&self) -> StoreResult<Vec<(i64, String)>>;
    /// What a token (by hash) grants, if it exists.
    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<TokenGrant>>;
    /// The server secret called `name`: `fresh` is stored the first time, and every later
    /// call (on any node) gets what was stored first. Signs what the server hands out,
    /// such as task tokens.
    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>>;

    /// Stores module bytes under their sha256 unless already there (identical code is kept once).
    async fn put_module(&self, sha256: &str, bytes: Vec<u8>) -> StoreResult<()>;
    /// Module bytes by sha256.
    async fn get_module(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Creates a function with its first version.
    async fn create_function(&self, new: NewFunction) -> StoreResult<FunctionRecord>;
    /// A function of an app by name.
    async fn get_function(&self, app_key: i64, name: &str) -> StoreResult<Option<FunctionRecord>>;
    /// A page of an app's functions by name, and the total count.
    async fn list_functions(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FunctionRecord>, i64)>;
    /// A function's versions, newest first.
    async fn list_function_versions(&self, function_id: i64) -> StoreResult<Vec<FunctionVersion>>;
    /// Changes metadata and, with new code, adds a version.
    async fn update_function(&self, app_key: i64, name: &str, update: FunctionUpdate) -> StoreResult<FunctionRecord>;
    /// Deletes a function, its versions, jobs and logs. False when there was none.
    async fn delete_function(&self, app_key: i64, name: &str) -> StoreResult<bool>;

    /// Records a job that already ran (a sync invocation) with its outcome; returns its id.
    async fn insert_finished_job(&self, job: NewJob, outcome: JobOutcome) -> StoreResult<i64>;
    /// [`Store::insert_finished_job`] for a caller on a plain thread (a guest's): the
    /// write is queued at once and `done` hears its id once it is committed, on whatever
    /// thread the store finishes it. Spares a sync call the hop back to the async side
    /// before its write. The default runs the async write on the current Tokio runtime.
    fn submit_finished_job(self: std::sync::Arc<Self>, job: NewJob, outcome: JobOutcome, done: JobWritten) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { done(self.insert_finished_job(job, outcome).await) });
            }
            Err(_) => done(Err(StoreError::Database("no runtime to write the job on".into()))),
        }
    }
    /// Records a waiting async job; it is durable when this returns.
    async fn insert_waiting_job(&self, job: NewJob) -> StoreResult<i64>;
    /// Records that `node` is alive at `now` (µs): the jobs it claimed stay its own while
    /// its last heartbeat is fresher than the lease.
    async fn heartbeat(&self, node: &str, now: i64) -> StoreResult<()>;
    /// `node`'s last heartbeat (µs), if it holds a lease.
    async fn node_heartbeat(&self, node: &str) -> StoreResult<Option<i64>>;
    /// Gives up `node`'s lease: what it left executing may be reclaimed at once.
    async fn remove_node(&self, node: &str) -> StoreResult<()>;
    /// Moves up to `limit` waiting jobs to executing for `node`, oldest first, and returns
    /// them; jobs of the apps in `skip` (running their whole share) stay waiting.
    async fn claim_jobs(&self, node: &str, limit: usize, skip: &[i64], started_at: i64) -> StoreResult<Vec<JobRecord>>;
    /// Writes the terminal outcome of a job `node` is executing, once: nothing changes
    /// when it ended already or was reclaimed from `node` meanwhile.
    async fn finish_job(&self, node: &str, id: i64, outcome: JobOutcome) -> StoreResult<()>;
    /// At `node`'s start: puts back to waiting the jobs it left executing when it stopped
    /// (and those claimed before nodes were recorded); returns how many.
    async fn requeue_own_jobs(&self, node: &str) -> StoreResult<u64>;
    /// Puts back to waiting the executing jobs of every node whose last heartbeat is older
    /// than `stale_before` (µs); returns how many.
    async fn reclaim_jobs(&self, stale_before: i64) -> StoreResult<u64>;
    /// How many async jobs wait to run.
    async fn count_waiting(&self) -> StoreResult<i64>;
    /// A job of an app.
    async fn get_job(&self, app_key: i64, id: i64) -> StoreResult<Option<JobRecord>>;
    /// A page of a function's jobs, newest first, and the total count.
    async fn list_jobs(
        &self,
        function_id: i64,
        filter: JobFilter,
        page: PageRequest,
    ) -> StoreResult<(Vec<JobRecord>, i64)>;
    /// A job's captured log.
    async fn job_log(&self, app_key: i64, id: i64) -> StoreResult<Option<String>>;
    /// The app's latest jobs at a glance: counts by status of those created since `since`
    /// (µs) and the latest `failures` failed ones, within its latest [`OVERVIEW_WINDOW`] jobs.
    async fn job_overview(&self, app_key: i64, since: i64, failures: i64) -> StoreResult<JobOverview>;

    /// Records an uploaded bin.
    async fn create_bin(&self, bin: BinRecord) -> StoreResult<()>;
    /// A bin of the app.
    async fn get_bin(&self, app_key: i64, id: &str) -> StoreResult<Option<BinRecord>>;
    /// Records a new instance.
    async fn create_instance(&self, instance: InstanceRecord) -> StoreResult<()>;
    /// A live (not destroyed) instance of the app.
    async fn get_instance(&self, app_key: i64, id: &str) -> StoreResult<Option<InstanceRecord>>;
    /// Commits a run's state if no other run committed since `instance.runs`, with the
    /// variable updates to deliver to the engine layer, atomically; false otherwise (and
    /// nothing is written).
    async fn commit_run(&self, instance: InstanceRecord, deliveries: Vec<NewVarDelivery>) -> StoreResult<bool>;
    /// Sets (or clears) the app's engine-layer URL for variable updates (seed 000, 4.2).
    async fn put_var_update_url(&self, app_key: i64, url: Option<String>) -> StoreResult<()>;
    /// The app's engine-layer URL for variable updates.
    async fn var_update_url(&self, app_key: i64) -> StoreResult<Option<String>>;
    /// Claims up to `limit` due deliveries, each the oldest pending one of its instance
    /// (so an instance's updates go out in order): their `next_at` becomes `lease_until`
    /// (a claim a stopped node leaves lapses then) and `attempts` grows by one.
    async fn claim_var_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> StoreResult<Vec<VarDelivery>>;
    /// Records how an attempt ended.
    async fn end_var_delivery(&self, id: i64, end: DeliveryEnd) -> StoreResult<()>;
    /// The latest `limit` deliveries of an instance, newest first.
    async fn list_var_deliveries(&self, app_key: i64, instance_id: &str, limit: i64) -> StoreResult<Vec<VarDelivery>>;
    /// Marks an instance destroyed; false when it was not live.
    async fn destroy_instance(&self, app_key: i64, id: &str) -> StoreResult<bool>;
    /// Binds (or rebinds) a function key of the app.
    async fn put_binding(&self, app_key: i64, binding: Binding) -> StoreResult<()>;
    /// The app's function-key bindings.
    async fn list_bindings(&self, app_key: i64) -> StoreResult<Vec<Binding>>;
    /// Publishes a service; false when the alias is taken by a live service.
    async fn publish_service(&self, service: ServiceRecord) -> StoreResult<bool>;
    /// Revokes a live service; false when there was none.
    async fn revoke_service(&self, app_key: i64, alias: &str, category: ServiceCategory) -> StoreResult<bool>;
    /// A service of the app (live or revoked).
    async fn get_service(&self, app_key: i64, alias: &str) -> StoreResult<Option<ServiceRecord>>;
    /// A page of the app's bins, newest first, and how many there are.
    async fn list_bins(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<BinRecord>, i64)>;
    /// A page of the app's live instances (of one bin when given), newest first, and how many.
    async fn list_instances(
        &self,
        app_key: i64,
        bin_id: Option<&str>,
        page: PageRequest,
    ) -> StoreResult<(Vec<InstanceRecord>, i64)>;
    /// The app's services, live and revoked, by alias.
    async fn list_services(&self, app_key: i64) -> StoreResult<Vec<ServiceRecord>>;

    /// Creates a flow with its first version; `AlreadyExists` when the app has one of that name.
    async fn create_flow(&self, new: NewFlowVersion) -> StoreResult<FlowRecord>;
    /// Adds a version to an existing flow; `NotFound` when there is none.
    async fn add_flow_version(&self, new: NewFlowVersion) -> StoreResult<FlowRecord>;
    /// A flow of the app: the given version, or the latest.
    async fn get_flow(&self, app_key: i64, name: &str, version: Option<i64>) -> StoreResult<Option<FlowRecord>>;
    /// A page of the app's flows (latest versions) by name, and the total count.
    async fn list_flows(&self, app_key: i64, page: PageRequest) -> StoreResult<(Vec<FlowRecord>, i64)>;
    /// Deletes a flow, its versions, executions and their history. False when there was none.
    async fn delete_flow(&self, app_key: i64, name: &str) -> StoreResult<bool>;

    /// Records a new execution with its first history events; `AlreadyExists` when the
    /// flow already has an execution of that name.
    async fn create_execution(&self, execution: ExecutionRecord, events: Vec<ExecutionEvent>) -> StoreResult<()>;
    /// Writes a transition: the new status and state plus its history events, atomically;
    /// `LeaseLost` (nothing written) when the execution's owner is not `update.owner`.
    async fn save_execution(&self, update: ExecutionUpdate, events: Vec<ExecutionEvent>) -> StoreResult<()>;
    /// An execution of the app.
    async fn get_execution(&self, app_key: i64, id: &str) -> StoreResult<Option<ExecutionRecord>>;
    /// An execution of a flow by its unique name.
    async fn get_execution_by_name(&self, flow_id: i64, name: &str) -> StoreResult<Option<ExecutionRecord>>;
    /// A page of a flow's executions, newest first, and the total count.
    async fn list_executions(&self, flow_id: i64, page: PageRequest) -> StoreResult<(Vec<ExecutionRecord>, i64)>;
    /// Up to `limit` history events of an execution with `seq > after`, in order.
    async fn list_execution_events(
        &self,
        execution_id: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExecutionEvent>>;
    /// Makes `node` the owner of every unfinished execution (`Starting` or `Running`) that
    /// has no owner or whose owner's last heartbeat is older than `stale_before` (or gone),
    /// plus, when `own`, those `node` already owns (its start after a stop), and returns
    /// them whole, oldest first. Two nodes never both take one.
    async fn claim_executions(&self, node: &str, stale_before: i64, own: bool) -> StoreResult<Vec<ExecutionRecord>>;
    /// Stores a signal for whichever node drives its execution and returns its id;
    /// `NotFound` when the execution does not exist or has ended.
    async fn add_signal(&self, signal: ExecutionSignal) -> StoreResult<i64>;
    /// Signals without an outcome for executions `node` owns, oldest first, at most 100.
    async fn open_signals(&self, node: &str) -> StoreResult<Vec<ExecutionSignal>>;
    /// Records what became of a signal (and drops outcomes nobody read for ten minutes).
    async fn settle_signal(&self, id: i64, outcome: serde_json::Value) -> StoreResult<()>;
    /// A signal's outcome once settled, removing the signal; `None` while it waits.
    async fn take_signal_outcome(&self, id: i64) -> StoreResult<Option<serde_json::Value>>;

    /// The changes every node (this one too) makes from now on, for a store several nodes
    /// share; `None` for one only this process uses (SQLite).
    fn notices(&self) -> Option<tokio::sync::broadcast::Receiver<Notice>> {
        None
    }
}
