//! A flow definition as a drawable graph, the same for both formats: each block's nodes
//! with their kind, edges labelled by why they are taken (next, a Choice rule, the
//! default, a Catch), and nested blocks (Map and foreach bodies, Parallel branches, DAG
//! choice blocks). The console draws it; the browser never parses YAML. The walk recurses
//! once per nested block: a parsed definition nests at most `MAX_NESTING` (64) levels.

use serde::Serialize;
use utoipa::ToSchema;

use super::graph::{Block, ChoiceTarget, FlowGraph, Node, NodeKind, Resource};

/// One block: where it starts and its nodes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutlineBlock {
    /// Why the block exists: `flow`, `body`, `branch 1`, `when <condition>`, `default`.
    pub label: String,
    /// The nodes it starts at.
    pub start: Vec<String>,
    /// Its nodes, in the order they were written.
    #[schema(no_recursion)]
    pub nodes: Vec<OutlineNode>,
}

/// One node of a block.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutlineNode {
    /// Unique within its block.
    pub name: String,
    /// `task`, `pass`, `return`, `choice`, `map`, `parallel`, `wait`, `succeed`, `fail`
    /// or `unsupported`.
    pub kind: &'static str,
    /// What it runs or does, for a label: `function://hello`, a URL, `Error: cause`.
    pub detail: Option<String>,
    /// Where it can go next, within its block.
    pub edges: Vec<OutlineEdge>,
    /// Blocks nested in it.
    #[schema(no_recursion)]
    pub blocks: Vec<OutlineBlock>,
}

/// An edge between two nodes of one block.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutlineEdge {
    /// The node it leads to.
    pub to: String,
    /// `next`, `choice`, `default` or `catch`.
    pub kind: &'static str,
    /// The Choice rule's condition or the errors a Catch takes; empty for `next`.
    pub label: String,
}

/// The outline of a parsed definition.
pub fn outline(graph: &FlowGraph) -> OutlineBlock {
    block("flow".into(), &graph.root)
}

fn block(label: String, b: &Block) -> OutlineBlock {
    let name = |i: &usize| b.nodes.get(*i).map(|n| n.name.clone());
    OutlineBlock {
        label,
        start: b.start.iter().filter_map(name).collect(),
        nodes: b.nodes.iter().map(|n| node(b, n)).collect(),
    }
}

fn node(b: &Block, n: &Node) -> OutlineNode {
    let name = |i: usize| b.nodes.get(i).map(|n| n.name.clone()).unwrap_or_default();
    let mut edges: Vec<OutlineEdge> =
        n.next.iter().map(|&i| OutlineEdge { to: name(i), kind: "next", label: String::new() }).collect();
    let mut blocks = Vec::new();
    match &n.kind {
        NodeKind::Choice(choice) => {
            let rules = choice.rules.iter().map(|r| (r.condition.text().to_string(), "choice", &r.target));
            for (label, kind, target) in rules.chain(choice.default.iter().map(|t| ("default".into(), "default", t))) {
                match target {
                    ChoiceTarget::Next(next) => {
                        edges.extend(next.iter().map(|&i| OutlineEdge { to: name(i), kind, label: label.clone() }))
                    }
                    ChoiceTarget::Block(inner) if kind == "default" => blocks.push(block(label, inner)),
                    ChoiceTarget::Block(inner) => blocks.push(block(format!("when {label}"), inner)),
                }
            }
        }
        NodeKind::Foreach(spec) => blocks.push(block("body".into(), &spec.block)),
        NodeKind::Parallel { branches } => {
            blocks.extend(branches.iter().enumerate().map(|(i, br)| block(format!("branch {}", i + 1), br)))
        }
        _ => {}
    }
    edges.extend(n.catch.iter().map(|c| OutlineEdge {
        to: name(c.next),
        kind: "catch",
        label: if c.errors.is_empty() { "any error".into() } else { c.errors.join(", ") },
    }));
    OutlineNode { name: n.name.clone(), kind: kind(&n.kind), detail: detail(&n.kind), edges, blocks }
}

fn kind(k: &NodeKind) -> &'static str {
    match k {
        NodeKind::Task(_) => "task",
        NodeKind::Pass { .. } => "pass",
        NodeKind::Return { .. } => "return",
        NodeKind::Choice(_) => "choice",
        NodeKind::Foreach(_) => "map",
        NodeKind::Parallel { .. } => "parallel",
        NodeKind::Wait(_) => "wait",
        NodeKind::Succeed => "succeed",
        NodeKind::Fail { .. } => "fail",
        NodeKind::Unsupported { .. } => "unsupported",
    }
}

fn detail(k: &NodeKind) -> Option<String> {
    match k {
        NodeKind::Task(task) => Some(match &task.resource {
            Resource::Http { url } => url.clone(),
            Resource::Function { name } => format!("function://{name}"),
            Resource::Unsupported { resource } => resource.clone(),
        }),
        NodeKind::Fail { error, cause } => Some(format!("{error}: {cause}")),
        NodeKind::Unsupported { kind } => Some(kind.clone()),
        _ => None,
    }
}
