//! Records of flows (versioned definitions), their executions and execution history.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One version of a flow. A flow's name is unique in its app; an update adds a version and
/// running executions keep the version they started with.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    /// Store-assigned id, stable across versions.
    pub id: i64,
    /// Owning app.
    pub app_key: i64,
    /// Unique in the app (a DAG added through seed 002 is named `workspace:dagName`).
    pub name: String,
    /// 1 for the first definition; each update adds one.
    pub version: i64,
    /// `dag`, `state_machine` or `fdl`.
    pub format: String,
    /// The definition text as uploaded.
    pub definition: String,
    /// Free text.
    pub description: String,
    /// µs since the epoch: when the flow was first created.
    pub created_at: i64,
    /// µs since the epoch: when this version was added.
    pub updated_at: i64,
}

/// A flow definition to store (first version or a new one).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFlowVersion {
    /// Owning app.
    pub app_key: i64,
    /// The flow's name.
    pub name: String,
    /// `dag`, `state_machine` or `fdl`.
    pub format: String,
    /// The text.
    pub definition: String,
    /// Free text.
    pub description: String,
    /// µs since the epoch.
    pub at: i64,
}

impl NewFlowVersion {
    /// The record this version has once stored as `version` of flow `id` (created at
    /// `created_at`).
    pub fn stored(&self, id: i64, version: i64, created_at: i64) -> FlowRecord {
        FlowRecord {
            id,
            app_key: self.app_key,
            name: self.name.clone(),
            version,
            format: self.format.clone(),
            definition: self.definition.clone(),
            description: self.description.clone(),
            created_at,
            updated_at: self.at,
        }
    }
}

/// An execution's status (seed 003's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecStatus {
    /// Accepted, first tasks not yet dispatched.
    Starting,
    /// Tasks are running or waiting.
    Running,
    /// Stopped by a client.
    Stopped,
    /// Ended well.
    Succeeded,
    /// A task failed and nothing caught it.
    Failed,
    /// The execution's deadline passed.
    TimedOut,
}

impl ExecStatus {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "Starting",
            Self::Running => "Running",
            Self::Stopped => "Stopped",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::TimedOut => "TimedOut",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Starting, Self::Running, Self::Stopped, Self::Succeeded, Self::Failed, Self::TimedOut]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// True once nothing more will happen.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Starting | Self::Running)
    }
}

/// An execution row as stored, with the scheduler's state, so a restarted server resumes
/// from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    /// Unique id (a random UUID-like string).
    pub id: String,
    /// Owning app.
    pub app_key: i64,
    /// The flow's id.
    pub flow_id: i64,
    /// The flow's name when the execution started.
    pub flow_name: String,
    /// The flow version it runs.
    pub flow_version: i64,
    /// Optional name, unique per flow (idempotent start).
    pub name: Option<String>,
    /// Where it is (stored by name).
    pub status: ExecStatus,
    /// The input as given.
    pub input: Json,
    /// The final output, once succeeded.
    pub output: Option<Json>,
    /// `{error, cause}` once failed, stopped or timed out.
    pub error: Option<Json>,
    /// URL POSTed the result when it ends.
    pub callback_url: Option<String>,
    /// The scheduler's state: whole when read one by one, the head only in lists.
    pub state: StateDoc,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch, when it ended.
    pub finished_at: Option<i64>,
    /// µs since the epoch, when the execution as a whole times out.
    pub deadline_at: Option<i64>,
    /// The node that drives it (see [`crate::Store::claim_executions`]); `None` only for
    /// rows stored before executions were leased.
    pub owner: Option<String>,
}

/// A change to an execution, written with its new history events in one transaction.
#[derive(Debug, Clone)]
pub struct ExecutionUpdate {
    /// Which execution.
    pub id: String,
    /// New status.
    pub status: ExecStatus,
    /// The scheduler state's head and the parts this transition changed.
    pub state: StateDoc,
    /// Output, when it ended well.
    pub output: Option<Json>,
    /// Error, when it ended badly.
    pub error: Option<Json>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// The node writing it: the write is refused ([`crate::StoreError::LeaseLost`]) when
    /// another node has taken the execution over.
    pub owner: String,
    /// Job records of the function tasks whose results this transition took, written in
    /// the same transaction (one commit per flow step instead of two).
    pub jobs: Vec<(super::NewJob, super::JobOutcome)>,
}

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionEvent {
    /// 1, 2, 3... within the execution, assigned by the scheduler.
    pub seq: i64,
    /// µs since the epoch.
    pub at: i64,
    /// e.g. `ExecutionStarted`, `StateEntered`, `TaskStarted`, `TaskSucceeded`, `TaskFailed`,
    /// `TaskRetried`, `StateExited`, `ExecutionSucceeded`.
    pub kind: String,
    /// The task key it concerns (`startNode`, `foreachNode_0-executor`), if any.
    pub node: Option<String>,
    /// Anything else: input, output, error, attempt.
    pub detail: Json,
}

/// An execution's scheduler state as stored: a head document and named parts (JSON text).
/// A write replaces the head and the parts it carries and keeps the others, so a
/// transition stores only what it changed; a read returns the head with every part.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StateDoc {
    /// The state without its parts.
    pub head: String,
    /// `(name, body)`; names are the scheduler's, opaque to the store.
    pub parts: Vec<(String, String)>,
}

/// What a node asks of the node that drives an execution, when the request reached a
/// node that does not drive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    /// A task's result from its finish callback (`task` names it; the body is
    /// `{"output": …}` or `{"error": …}`).
    Finish,
    /// Stop the execution (the body is `{"cause": …}`).
    Stop,
}

impl SignalKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finish => "finish",
            Self::Stop => "stop",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Finish, Self::Stop].into_iter().find(|k| k.as_str() == text)
    }
}

/// A stored request for the node driving an execution. The driving node takes it, acts,
/// and writes an outcome the asking node reads back.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionSignal {
    /// Assigned by the store (ignored when adding one).
    pub id: i64,
    /// Which execution.
    pub execution_id: String,
    /// What is asked.
    pub kind: SignalKind,
    /// The task a finish is for.
    pub task: Option<String>,
    /// What the kind carries.
    pub body: Json,
    /// µs since the epoch.
    pub created_at: i64,
}
