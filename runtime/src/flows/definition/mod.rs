//! Flow definition parsers: Rill-Flow-style DAG YAML, the state-machine spec (CloudFlow
//! `Type: StateMachine` and the AWS-style map of states) and old-format FDL (`steps:`) are
//! read into one validated [`FlowGraph`]. JSON text is accepted too (YAML is a superset).

use std::fmt;

use serde_json::Value as Json;

use super::graph::{FlowFormat, FlowGraph};

mod common;
mod dag;
mod fdl;
pub mod limits;
mod state_machine;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_formats;

/// Why a definition was rejected: the task (nested ones as `parent/child`) and the field
/// it concerns when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    /// The task or state, e.g. `foreachNode/executor`.
    pub task: Option<String>,
    /// The field, e.g. `next` or `inputMappings[1].source`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.task, &self.field) {
            (Some(task), Some(field)) => write!(f, "task {task:?}, field {field:?}: ")?,
            (Some(task), None) => write!(f, "task {task:?}: ")?,
            (None, Some(field)) => write!(f, "field {field:?}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

impl DefinitionError {
    fn general(message: impl Into<String>) -> Self {
        DefinitionError { task: None, field: None, message: message.into() }
    }
}

/// Parses and validates a flow definition, detecting its format: `Type: StateMachine` (or
/// `StartAt` + `States`) → state machine; `steps:` → FDL; `tasks:` → DAG.
/// Text over [`limits::MAX_DEFINITION_BYTES`], nested deeper than [`limits::MAX_NESTING`]
/// or with more than [`limits::MAX_TASKS`] tasks is refused, naming the limit.
pub fn parse(text: &str) -> Result<FlowGraph, DefinitionError> {
    limits::check_text(text)?;
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(yaml_error)?;
    let Json::Object(doc) = to_json(yaml) else {
        return Err(DefinitionError::general("a flow definition must be a mapping"));
    };
    let graph = match detect(&doc)? {
        FlowFormat::Dag => dag::parse(&doc),
        FlowFormat::StateMachine => state_machine::parse(&doc),
        FlowFormat::Fdl => fdl::parse(&doc),
    }?;
    limits::check_task_count(graph.root.task_count())?;
    limits::check_retries(&graph.root)?;
    Ok(graph)
}

fn yaml_error(error: serde_yaml_ng::Error) -> DefinitionError {
    let message = error.to_string();
    match error.location() {
        Some(at) => {
            let place = format!("line {} column {}", at.line(), at.column());
            let message = message.replacen(&format!(" at {place}"), "", 1);
            DefinitionError::general(format!("YAML error at {place}: {message}"))
        }
        None => DefinitionError::general(format!("YAML error: {message}")),
    }
}

fn detect(doc: &serde_json::Map<String, Json>) -> Result<FlowFormat, DefinitionError> {
    let kind = doc.get("Type");
    if kind.and_then(Json::as_str) == Some("StateMachine")
        || (doc.contains_key("StartAt") && doc.contains_key("States"))
    {
        return Ok(FlowFormat::StateMachine);
    }
    if let Some(kind) = kind {
        let message = format!("unknown flow Type {kind}; expected StateMachine");
        return Err(DefinitionError { task: None, field: Some("Type".into()), message });
    }
    if doc.contains_key("steps") {
        return Ok(FlowFormat::Fdl);
    }
    if doc.contains_key("tasks") {
        return Ok(FlowFormat::Dag);
    }
    Err(DefinitionError::general(
        "cannot tell the definition format: expected `Type: StateMachine` with `States`, FDL `steps:` or DAG `tasks:`",
    ))
}

/// YAML to JSON: tags (`!Ref svc/func`) become the value they tag; map keys that are not
/// strings become their text; numbers JSON cannot hold (NaN, infinities) become strings.
fn to_json(value: serde_yaml_ng::Value) -> Json {
    use serde_yaml_ng::Value as Yaml;
    match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Json::String(n.to_string()), Json::Number)
            }
        }
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => Json::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(map) => Json::Object(map.into_iter().map(|(k, v)| (key_text(k), to_json(v))).collect()),
        Yaml::Tagged(tagged) => to_json(tagged.value),
    }
}

fn key_text(key: serde_yaml_ng::Value) -> String {
    match to_json(key) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}
