//! JSON shapes of flows and executions on the native API.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::{IntoParams, ToSchema};

use super::views::seconds;
use crate::flows::service::ExecutionDetail;
use crate::flows::view::{TaskView, progress, tasks};
use crate::store::{ExecStatus, ExecutionEvent, ExecutionRecord, FlowRecord};
use crate::time::rfc3339;

/// A flow version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlowView {
    /// Unique in the app.
    pub name: String,
    /// This version (1 for the first definition).
    pub version: i64,
    /// `dag`, `state_machine` or `fdl`.
    pub format: String,
    /// Free text.
    pub description: String,
    /// The definition text as uploaded.
    pub definition: String,
    /// Seconds since the epoch.
    pub created_at: f64,
    /// Seconds since the epoch: when this version was added.
    pub updated_at: f64,
}

impl From<&FlowRecord> for FlowView {
    fn from(f: &FlowRecord) -> Self {
        Self {
            name: f.name.clone(),
            version: f.version,
            format: f.format.clone(),
            description: f.description.clone(),
            definition: f.definition.clone(),
            created_at: seconds(f.created_at),
            updated_at: seconds(f.updated_at),
        }
    }
}

/// A page of flows.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowPage {
    /// Latest versions, by name.
    pub items: Vec<FlowView>,
    /// All flows of the app.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// A flow to create (JSON shape; a raw YAML body with `?name=` works too).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FlowBody {
    /// The flow's name; defaults to the definition's own.
    pub name: Option<String>,
    /// The YAML or JSON definition text.
    pub definition: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// `?name=&description=` of a raw YAML upload.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowQuery {
    /// The flow's name (raw uploads).
    pub name: Option<String>,
    /// Free text (raw uploads).
    pub description: Option<String>,
}

/// `?version=` of a read.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version to read (default: the latest).
    pub version: Option<i64>,
}

/// How to start an execution.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct StartBody {
    /// The input (any JSON; usually an object).
    #[serde(default)]
    #[schema(value_type = Value)]
    pub input: Json,
    /// Unique per flow (idempotent start).
    pub name: Option<String>,
    /// POSTed the outcome when the execution ends.
    pub callback_url: Option<String>,
    /// Sent by every HTTP task (a task's own header of the same name wins); mappings read
    /// them as `$.headers.<name>`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

/// `?sync=true&timeout_ms=` of a start.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartQuery {
    /// Wait for the end and answer with the outcome.
    #[serde(default)]
    pub sync: bool,
    /// Sync: the longest to wait (default 30000); the execution times out past it.
    #[param(minimum = 1, maximum = 300000)]
    pub timeout_ms: Option<u64>,
}

/// An execution with its tasks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExecutionView {
    /// Its id.
    pub execution_id: String,
    /// The flow.
    pub flow_name: String,
    /// The flow version it runs.
    pub flow_version: i64,
    /// Its unique name, if given.
    pub name: Option<String>,
    /// `Starting`, `Running`, `Stopped`, `Succeeded`, `Failed`, `TimedOut`.
    pub status: String,
    /// 0–100.
    pub process: u8,
    /// The input.
    #[schema(value_type = Value)]
    pub input: Json,
    /// The output, once succeeded (else null).
    #[schema(value_type = Value)]
    pub output: Option<Json>,
    /// `{error, cause}` once failed (else null).
    #[schema(value_type = Value)]
    pub error: Option<Json>,
    /// RFC 3339.
    pub started_time: String,
    /// RFC 3339, once ended.
    pub stopped_time: Option<String>,
    /// The node that drives (or drove) it, when several nodes share one database.
    pub node: Option<String>,
    /// Every task reached, and the top-level ones not reached yet.
    #[schema(value_type = Vec<Object>)]
    pub tasks: Vec<TaskView>,
}

impl From<&ExecutionDetail> for ExecutionView {
    fn from(d: &ExecutionDetail) -> Self {
        let r = &d.record;
        Self { tasks: tasks(d), process: progress(d), ..Self::brief(r) }
    }
}

impl ExecutionView {
    /// The view without tasks (process 0 until read in full).
    pub fn brief(r: &ExecutionRecord) -> Self {
        Self {
            execution_id: r.id.clone(),
            flow_name: r.flow_name.clone(),
            flow_version: r.flow_version,
            name: r.name.clone(),
            status: r.status.as_str().to_string(),
            process: if r.status == ExecStatus::Succeeded { 100 } else { 0 },
            input: r.input.clone(),
            output: r.output.clone(),
            error: r.error.clone(),
            started_time: rfc3339(r.created_at),
            stopped_time: r.finished_at.map(rfc3339),
            node: r.owner.clone(),
            tasks: Vec::new(),
        }
    }
}

/// A page of executions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecutionPage {
    /// Newest first, without tasks.
    pub items: Vec<ExecutionView>,
    /// All executions of the flow.
    pub total: i64,
    /// Page size used.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// A failed node of a sync execution (seed 004).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NodeErrorView {
    /// The task key (empty for an error of the execution as a whole: a limit, a timeout, a stop).
    pub node_id: String,
    /// Why it failed.
    pub error_message: String,
    /// RFC 3339.
    pub begin_time: Option<String>,
    /// RFC 3339.
    pub end_time: Option<String>,
}

/// What a start answers with 200: with `?sync=true`, the outcome; without, the running
/// execution of the same `name`, which was returned instead of starting another.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum StartAnswer {
    /// `?sync=true`: the outcome.
    Outcome(SyncExecutionView),
    /// The running execution of that name.
    Existing(ExecutionView),
}

/// The outcome of a sync execution (seed 004's fields).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncExecutionView {
    /// Its id.
    pub execution_id: String,
    /// Final status (`Succeeded`, `Failed`, `TimedOut`, ...).
    pub status: String,
    /// The output, when succeeded (else null).
    #[schema(value_type = Value)]
    pub output: Option<Json>,
    /// Failed nodes.
    pub errors: Vec<NodeErrorView>,
    /// RFC 3339.
    pub begin_time: String,
    /// RFC 3339.
    pub end_time: Option<String>,
}

impl From<&ExecutionDetail> for SyncExecutionView {
    fn from(d: &ExecutionDetail) -> Self {
        let r = &d.record;
        let mut errors: Vec<NodeErrorView> = tasks(d)
            .into_iter()
            .filter(|t| t.status == "FAILED")
            .map(|t| NodeErrorView {
                node_id: t.key,
                error_message: t.error.map(|e| format!("{}: {}", e.error, e.cause)).unwrap_or_default(),
                begin_time: t.started_at.map(rfc3339),
                end_time: t.finished_at.map(rfc3339),
            })
            .collect();
        // An execution that failed as a whole (a limit, a timeout, a stop) without a failed
        // task still says why.
        if errors.is_empty()
            && let Some(error) = &r.error
        {
            let text = |key: &str| error[key].as_str().unwrap_or_default().to_string();
            errors.push(NodeErrorView {
                node_id: String::new(),
                error_message: format!("{}: {}", text("error"), text("cause")),
                begin_time: None,
                end_time: r.finished_at.map(rfc3339),
            });
        }
        Self {
            execution_id: r.id.clone(),
            status: r.status.as_str().to_string(),
            output: r.output.clone(),
            errors,
            begin_time: rfc3339(r.created_at),
            end_time: r.finished_at.map(rfc3339),
        }
    }
}

/// `?after=&limit=` of the history.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only events after this sequence number (default 0: from the start).
    pub after: Option<i64>,
    /// Events per page (default 100, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// One history event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// 1, 2, 3... in the execution.
    pub seq: i64,
    /// RFC 3339.
    pub time: String,
    /// e.g. `StateEntered`, `TaskSucceeded`.
    pub kind: String,
    /// The task key, if any.
    pub node: Option<String>,
    /// Input, output, error, attempt...
    #[schema(value_type = Value)]
    pub detail: Json,
}

impl From<&ExecutionEvent> for EventView {
    fn from(e: &ExecutionEvent) -> Self {
        Self { seq: e.seq, time: rfc3339(e.at), kind: e.kind.clone(), node: e.node.clone(), detail: e.detail.clone() }
    }
}

/// A page of history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    /// In order.
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

/// The finish callback of an async task (seed 002's body; a body without `response` is
/// itself the output, and `result_type` defaults to `SUCCESS`).
#[allow(dead_code, reason = "it describes the body in /openapi.json; handlers read the body as free JSON")]
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FinishBody {
    /// `SUCCESS` or `FAIL`.
    pub result_type: Option<String>,
    /// What the task produced (its `$.output` for outputMappings), or why it failed.
    #[serde(default)]
    #[schema(value_type = Value)]
    pub response: Json,
    /// `{execution_id, task_name}` as sent with the task (used when the query lacks them).
    #[serde(default)]
    #[schema(value_type = Value)]
    pub passthrough: Json,
}
