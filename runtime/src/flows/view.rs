//! What clients see of an execution: per-task status with its definition, and progress.

use serde::Serialize;
use serde_json::Value as Json;

use super::graph::{Block, Node, NodeKind};
use super::scheduler::{ErrorInfo, ExecStatus, TaskStatus, node_of};
use super::service::ExecutionDetail;

/// One task of an execution.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TaskView {
    /// Unique in the execution: the node's name, prefixed by its container and iteration
    /// for nested tasks (`foreachNode_0-executor`).
    pub key: String,
    /// The node's name.
    pub name: String,
    /// `NOT_STARTED`, `READY`, `RUNNING`, `SUCCEED`, `FAILED`, `SKIPPED`.
    pub status: &'static str,
    /// Names of its successors.
    pub next: Vec<String>,
    /// Whether it runs nested tasks (foreach, choice blocks, parallel).
    pub contains_sub: bool,
    /// Its definition as written.
    pub task: Json,
    /// Its input.
    pub input: Option<Json>,
    /// Its output.
    pub output: Option<Json>,
    /// Its error.
    pub error: Option<ErrorInfo>,
    /// Attempts started.
    pub attempt: u32,
    /// µs since the epoch.
    pub started_at: Option<i64>,
    /// µs since the epoch.
    pub finished_at: Option<i64>,
}

fn names(block: &Block, node: &Node) -> Vec<String> {
    node.successors().iter().filter_map(|&i| block.nodes.get(i)).map(|n| n.name.clone()).collect()
}

fn contains_sub(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Foreach(_) | NodeKind::Parallel { .. } => true,
        NodeKind::Choice(c) => c.rules.iter().any(|r| matches!(r.target, super::graph::ChoiceTarget::Block(_))),
        _ => false,
    }
}

/// Every task entered so far plus the top-level ones not reached yet, top-level first in
/// definition order, then nested ones by key.
pub fn tasks(detail: &ExecutionDetail) -> Vec<TaskView> {
    let (graph, state) = (&detail.graph, &detail.state);
    let mut views = Vec::new();
    let root = &graph.root;
    for node in &root.nodes {
        let view = match state.tasks.get(&node.name).filter(|t| t.scope == 0) {
            Some(task) => view_of(&node.name, node, root, task),
            None => TaskView {
                key: node.name.clone(),
                name: node.name.clone(),
                status: TaskStatus::NotStarted.as_str(),
                next: names(root, node),
                contains_sub: contains_sub(node),
                task: node.definition.clone(),
                input: None,
                output: None,
                error: None,
                attempt: 0,
                started_at: None,
                finished_at: None,
            },
        };
        views.push(view);
    }
    for (key, task) in state.tasks.iter().filter(|(_, t)| t.scope != 0) {
        let Some(node) = node_of(graph, state, task) else { continue };
        let block = super::scheduler::block_of(graph, state, task.scope);
        views.push(view_of(key, node, block, task));
    }
    views
}

fn view_of(key: &str, node: &Node, block: &Block, task: &super::scheduler::TaskState) -> TaskView {
    TaskView {
        key: key.to_string(),
        name: task.name.clone(),
        status: task.status().as_str(),
        next: names(block, node),
        contains_sub: contains_sub(node),
        task: node.definition.clone(),
        input: task.input.clone(),
        output: task.output().cloned(),
        error: task.error().cloned(),
        attempt: task.attempt,
        started_at: task.started_at,
        finished_at: task.finished_at(),
    }
}

/// Progress 0–100: the share of top-level tasks that ended (100 once succeeded).
pub fn progress(detail: &ExecutionDetail) -> u8 {
    let state = &detail.state;
    if state.status == ExecStatus::Succeeded {
        return 100;
    }
    let total = detail.graph.root.nodes.len().max(1);
    let done = detail
        .graph
        .root
        .nodes
        .iter()
        .filter(|n| state.tasks.get(&n.name).is_some_and(|t| t.scope == 0 && t.status().is_terminal()))
        .count();
    u8::try_from(done * 100 / total).unwrap_or(100)
}
