//! Flows as a service: versioned definitions, executions (async, sync, idempotent by
//! name), status, history, stop and the finish callback. Plain Rust, no HTTP types; the
//! native and compatible APIs both call this.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use serde_json::Value as Json;

use super::definition;
use super::driver::Driver;
use super::graph::FlowGraph;
use super::running::{Exit, FlowsConfig};
use super::scheduler::{Event, ExecState};
use super::task_tokens::{TaskTarget, TaskTokens};
use crate::cache::GuardedCache;
use crate::egress::EgressPolicy;
use crate::error::ServiceError;
use crate::runs::JobRunner;
use crate::store::{ExecutionRecord, FlowRecord, NewFlowVersion, PageRequest, Store, StoreError};
use crate::time::now_us;

/// Longest a flow or execution name may be.
const MAX_NAME_LEN: usize = 128;

/// A definition to store.
#[derive(Debug, Clone, Default)]
pub struct NewFlow {
    /// The flow's name; when absent, the definition's own (`workspace:dagName` for a DAG
    /// with a workspace, else `dagName` / `Name`).
    pub name: Option<String>,
    /// The YAML or JSON text.
    pub definition: String,
    /// Free text.
    pub description: String,
}

/// How to start an execution.
#[derive(Debug, Clone, Default)]
pub struct StartExecution {
    /// The input: a JSON object (the DAG's context; the state machine's data).
    pub input: Json,
    /// Unique per flow: a running execution of that name is returned instead of starting
    /// another; a finished one is an `ExecutionAlreadyExists` error.
    pub name: Option<String>,
    /// POSTed `{execution_id, status, output, error}` when the execution ends.
    pub callback_url: Option<String>,
    /// The waiting task this execution's end finishes (seed 003's `CallbackFnFTaskToken`,
    /// checked with [`Flows::task_target`]); instead of `callback_url`.
    pub report_to: Option<TaskTarget>,
    /// The execution times out after this long (on top of the flow's own timeout).
    pub timeout: Option<Duration>,
    /// Headers for the execution (seed 004's `headers`): every HTTP task sends them (a
    /// task's own header of the same name wins), and mappings read them as
    /// `$.headers.<name>`, so a function task can be given them.
    pub headers: std::collections::BTreeMap<String, String>,
}

/// An execution that was started, or the running one of the same name.
#[derive(Debug, Clone)]
pub struct Started {
    /// Its record as stored at start.
    pub record: ExecutionRecord,
    /// True when a running execution of that name was returned.
    pub existing: bool,
    /// Turns to [`Exit::Ended`] when an execution started here ends.
    pub(crate) done: Option<tokio::sync::watch::Receiver<Exit>>,
}

/// An execution with its parsed state and graph, for status views.
#[derive(Debug, Clone)]
pub struct ExecutionDetail {
    /// The stored row.
    pub record: ExecutionRecord,
    /// The scheduler state.
    pub state: ExecState,
    /// The flow version's graph.
    pub graph: Arc<FlowGraph>,
}

/// The flows service.
#[derive(Clone)]
pub struct Flows {
    pub(super) store: Arc<dyn Store>,
    pub(super) driver: Arc<Driver>,
    /// The job runner, for this node's lease.
    pub(super) jobs: JobRunner,
    /// Woken when a signal was stored, here or on another node (the keeper also looks every
    /// second in case a wake-up was missed).
    pub(super) signalled: Arc<tokio::sync::Notify>,
    /// Checks the tokens `waitForCallback` tasks hand out.
    pub(super) tokens: TaskTokens,
    graphs: Arc<DashMap<(i64, i64), Arc<FlowGraph>>>,
    /// Latest versions by (app, name), so a start does not read the store for them.
    latest: GuardedCache<(i64, String), FlowRecord>,
}

impl std::fmt::Debug for Flows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flows").field("config", self.driver.config()).finish_non_exhaustive()
    }
}

fn flow_not_found(name: &str) -> ServiceError {
    ServiceError::NotFound { kind: "Flow", what: format!("flow {name:?}") }
}

pub(super) fn execution_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound { kind: "Execution", what: format!("execution {id:?}") }
}

/// Parses and validates a definition; a bad one is an `InvalidArgument` naming the task and field.
pub fn parse_definition(text: &str) -> Result<FlowGraph, ServiceError> {
    definition::parse(text).map_err(|e| ServiceError::InvalidArgument(format!("invalid flow definition: {e}")))
}

/// [`parse_definition`] on the bounded CPU pool, off the async workers: a definition
/// from a request is parsed here.
pub async fn parse_definition_off_thread(text: &str) -> Result<FlowGraph, ServiceError> {
    let text = text.to_string();
    crate::cpu::run(move || parse_definition(&text)).await?
}

pub(super) fn check_name(what: &str, name: &str) -> Result<(), ServiceError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.');
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.chars().all(ok_char) {
        return Err(ServiceError::InvalidArgument(format!(
            "{what} {name:?} must be 1 to {MAX_NAME_LEN} letters, digits, '_', '-', ':' or '.'"
        )));
    }
    Ok(())
}

/// The name a definition gives itself.
fn own_name(graph: &FlowGraph) -> Option<String> {
    let name = graph.name.trim();
    if name.is_empty() {
        return None;
    }
    Some(match graph.workspace.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(workspace) => format!("{workspace}:{name}"),
        None => name.to_string(),
    })
}

impl Flows {
    /// The service; call [`Flows::resume`] to pick up executions a previous process left.
    /// HTTP tasks and callback URLs are called under `egress`.
    pub fn new(
        store: Arc<dyn Store>,
        jobs: JobRunner,
        config: FlowsConfig,
        egress: &EgressPolicy,
        tokens: TaskTokens,
    ) -> Self {
        let signalled = Arc::new(tokio::sync::Notify::new());
        let driver =
            Arc::new(Driver::new(store.clone(), jobs.clone(), config, egress, tokens.clone(), signalled.clone()));
        Self {
            store,
            driver,
            jobs,
            tokens,
            signalled,
            graphs: Arc::new(DashMap::new()),
            latest: GuardedCache::default(),
        }
    }

    /// Forgets the latest version of a flow another node changed or deleted.
    pub(crate) fn forget_cached(&self, app_key: i64, name: &str) {
        self.latest.forget(&(app_key, name.to_string()));
    }

    /// Forgets every cached latest version (changes may have been missed).
    pub(crate) fn forget_all(&self) {
        self.latest.clear();
    }

    /// Looks for signals now (another node stored one).
    pub(crate) fn wake_for_signals(&self) {
        self.signalled.notify_one();
    }

    /// Sets the base URL (`http://host:port`) async HTTP tasks are told to call back.
    pub fn set_callback_base(&self, base: String) {
        self.driver.set_callback_base(base);
    }

    /// Stops driving executions; their state stays stored for the next start.
    pub async fn shutdown(&self) {
        self.driver.shutdown().await;
    }

    /// Stores a new flow (version 1).
    pub async fn create(&self, app_key: i64, new: NewFlow) -> Result<FlowRecord, ServiceError> {
        let version = self.version_of(app_key, new).await?;
        let name = version.name.clone();
        let created = self.store.create_flow(version).await.map_err(|e| match e {
            StoreError::AlreadyExists { .. } => {
                ServiceError::AlreadyExists { kind: "Flow", what: format!("flow {name:?}") }
            }
            other => other.into(),
        })?;
        self.cache_latest(app_key, &created);
        Ok(created)
    }

    fn cache_latest(&self, app_key: i64, flow: &FlowRecord) {
        self.latest.put((app_key, flow.name.clone()), flow.clone());
    }

    /// Adds a version to a flow; running executions keep the version they started with.
    pub async fn update(&self, app_key: i64, name: &str, mut new: NewFlow) -> Result<FlowRecord, ServiceError> {
        new.name = Some(name.to_string());
        let version = self.version_of(app_key, new).await?;
        let name = version.name.clone();
        self.latest.begin_change();
        let added = self.store.add_flow_version(version).await.map_err(|e| match e {
            StoreError::NotFound(_) => flow_not_found(&name),
            other => other.into(),
        })?;
        self.cache_latest(app_key, &added);
        Ok(added)
    }

    /// Creates the flow, or adds a version when it exists (seed 002's add_descriptor);
    /// `fallback` names it when neither `new` nor the definition does.
    pub async fn put(
        &self,
        app_key: i64,
        mut new: NewFlow,
        fallback: Option<String>,
    ) -> Result<FlowRecord, ServiceError> {
        if new.name.is_none() {
            let graph = parse_definition_off_thread(&new.definition).await?;
            new.name = own_name(&graph).or(fallback);
        }
        let (name, _) = self.validate(&new).await?;
        match self.store.get_flow(app_key, &name, None).await? {
            Some(_) => self.update(app_key, &name, new).await,
            None => self.create(app_key, NewFlow { name: Some(name), ..new }).await,
        }
    }

    /// The version to store for `new`, once validated.
    async fn version_of(&self, app_key: i64, new: NewFlow) -> Result<NewFlowVersion, ServiceError> {
        let (name, format) = self.validate(&new).await?;
        Ok(NewFlowVersion {
            app_key,
            name,
            format,
            definition: new.definition,
            description: new.description,
            at: now_us(),
        })
    }

    async fn validate(&self, new: &NewFlow) -> Result<(String, String), ServiceError> {
        let graph = parse_definition_off_thread(&new.definition).await?;
        let name = match new.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => own_name(&graph).ok_or_else(|| {
                ServiceError::InvalidArgument(
                    "the flow needs a name: give one, or a dagName/Name in the definition".into(),
                )
            })?,
        };
        check_name("flow name", &name)?;
        Ok((name, graph.format.as_str().to_string()))
    }

    /// A flow: the given version or the latest.
    pub async fn get(&self, app_key: i64, name: &str, version: Option<i64>) -> Result<FlowRecord, ServiceError> {
        let load = async {
            self.store.get_flow(app_key, name, version).await?.ok_or_else(|| match version {
                Some(v) => ServiceError::NotFound { kind: "Flow", what: format!("version {v} of flow {name:?}") },
                None => flow_not_found(name),
            })
        };
        match version {
            Some(_) => load.await,
            None => self.latest.get_or_load((app_key, name.to_string()), load).await,
        }
    }

    /// A page of the app's flows and the total.
    pub async fn list(&self, app_key: i64, page: PageRequest) -> Result<(Vec<FlowRecord>, i64), ServiceError> {
        Ok(self.store.list_flows(app_key, page).await?)
    }

    /// Deletes a flow with its versions and executions (live ones are stopped first).
    pub async fn delete(&self, app_key: i64, name: &str) -> Result<(), ServiceError> {
        let flow = self.get(app_key, name, None).await?;
        let (running, _) = self.store.list_executions(flow.id, PageRequest { limit: i64::MAX, offset: 0 }).await?;
        for execution in running.iter().filter(|e| !e.status.is_terminal()) {
            self.driver.send(&execution.id, Event::Stop { cause: format!("flow {name:?} was deleted") });
        }
        self.latest.begin_change();
        let deleted = self.store.delete_flow(app_key, name).await;
        self.latest.forget(&(app_key, name.to_string()));
        if !deleted? {
            return Err(flow_not_found(name));
        }
        Ok(())
    }

    /// A page of a flow's executions, newest first.
    pub async fn executions(
        &self,
        app_key: i64,
        name: &str,
        page: PageRequest,
    ) -> Result<(Vec<ExecutionRecord>, i64), ServiceError> {
        let flow = self.get(app_key, name, None).await?;
        Ok(self.store.list_executions(flow.id, page).await?)
    }

    pub(super) async fn graph_of(&self, record: &ExecutionRecord) -> Result<Arc<FlowGraph>, ServiceError> {
        let key = (record.flow_id, record.flow_version);
        if let Some(graph) = self.graphs.get(&key) {
            return Ok(graph.clone());
        }
        let flow = self.get(record.app_key, &record.flow_name, Some(record.flow_version)).await?;
        self.graph(&flow)
    }

    pub(super) fn graph(&self, flow: &FlowRecord) -> Result<Arc<FlowGraph>, ServiceError> {
        let key = (flow.id, flow.version);
        if let Some(graph) = self.graphs.get(&key) {
            return Ok(graph.clone());
        }
        let graph = Arc::new(parse_definition(&flow.definition)?);
        self.graphs.insert(key, graph.clone());
        Ok(graph)
    }
}
