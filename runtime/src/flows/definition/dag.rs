//! Rill-Flow-style DAG YAML (`type: flow`, `tasks:`) → [`FlowGraph`] with DAG blocks.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};

use super::DefinitionError;
use super::common::{Fields, as_written, conditions, index_names, mappings, resolve, task_path, url_resource};
use crate::flows::data::{Condition, Mapping, Path, Source, transform_script};
use crate::flows::graph::{
    Block, BlockMode, ChoiceRule, ChoiceSpec, ChoiceTarget, DataFlow, Degrade, FlowFormat, FlowGraph, ForeachOutput,
    ForeachSpec, HttpMethod, Node, NodeKind, Resource, RetryRule, TaskPattern, TaskSpec,
};

/// Reads a DAG document. The legacy header maps `namespace` → workspace and `service` →
/// name. A top-level `output:` shorthand (Rill Flow turns it into an extra end task) is
/// accepted and ignored; a task's `input:` shorthand is converted (see [`shorthand`]).
pub(super) fn parse(doc: &Map<String, Json>) -> Result<FlowGraph, DefinitionError> {
    let header = Fields::top(doc);
    if let Some(kind) = header.text("type")?
        && kind != "flow"
    {
        return Err(header.err("type", format!("unknown type {kind:?}; expected \"flow\"")));
    }
    let workspace = match header.text("workspace")? {
        Some(w) => Some(w),
        None => header.text("namespace")?,
    };
    let name = [header.text("dagName")?, header.text("service")?, header.text("name")?].into_iter().flatten().next();
    let default_context = match header.get("defaultContext") {
        None => Map::new(),
        Some(Json::Object(map)) => map.clone(),
        Some(_) => return Err(header.err("defaultContext", "must be a mapping")),
    };
    let timeout_secs = match header.object("timer")? {
        Some(timer) => timer.number("timeoutInSeconds")?,
        None => None,
    };
    let root = block(&header, "tasks", "")?;
    Ok(FlowGraph {
        format: FlowFormat::Dag,
        name: name.unwrap_or_default(),
        workspace,
        root,
        default_context,
        timeout_secs,
    })
}

/// The DAG block listed under `key` of `parent`; nested task names are prefixed by `path`.
fn block(parent: &Fields<'_>, key: &str, path: &str) -> Result<Block, DefinitionError> {
    let items = parent.items(key)?;
    if items.is_empty() {
        return Err(parent.err(key, "must list at least one task"));
    }
    let names = items.iter().map(|item| item.required_text("name")).collect::<Result<Vec<_>, _>>()?;
    let index = index_names(&names, &items, path)?;
    let exports = shorthand_exports(&items, &index);
    let nodes = items
        .iter()
        .zip(&names)
        .map(|(item, name)| node(&item.with_task(&task_path(path, name)), name, &index, exports.contains(name)))
        .collect::<Result<Vec<_>, _>>()?;
    check_acyclic(&nodes, path)?;
    let block = Block::new(BlockMode::Dag, nodes, None);
    if block.start.is_empty() {
        return Err(parent.err(key, "no task is a root (every task has an upstream)"));
    }
    Ok(block)
}

fn node(f: &Fields<'_>, name: &str, index: &HashMap<String, usize>, export: bool) -> Result<Node, DefinitionError> {
    let path = f.task.clone().unwrap_or_default();
    let category = f.required_text("category")?;
    let kind = match category.as_str() {
        "function" => function(f)?,
        "pass" => NodeKind::Pass { result: None },
        "return" => NodeKind::Return { conditions: conditions(f, "conditions", &as_written)? },
        "choice" => choice(f, &path)?,
        "switch" => switch(f, index)?,
        "foreach" => foreach(f, &path)?,
        "suspense" => NodeKind::Unsupported { kind: category.clone() },
        other => return Err(f.err("category", format!("unknown category {other:?}"))),
    };
    let mut input = mappings(f, "inputMappings", "$.input", &as_written)?;
    input.extend(shorthand(f, index)?);
    let mut output = mappings(f, "outputMappings", "$.context", &as_written)?;
    if export {
        let target = Path::parse(&format!("$.context['{}']", name.replace('\'', "\\'"))).map_err(f.data_err("name"))?;
        let source = Path::parse("$.output").map_err(f.data_err("name"))?;
        output.push(Mapping { source: Some(Source::Path(source)), target, transform: None });
    }
    let retry = match f.object("retry")? {
        Some(r) => vec![RetryRule {
            errors: Vec::new(),
            max_retries: r.count("maxRetryTimes")?.unwrap_or(0),
            interval_secs: r.number("intervalInSeconds")?.unwrap_or(0.0),
            backoff_rate: r.number("multiplier")?.unwrap_or(1.0),
            max_interval_secs: None,
        }],
        None => Vec::new(),
    };
    let timeout_secs = match f.object("timeline")? {
        Some(timeline) => timeline.number("timeoutInSeconds")?,
        None => None,
    };
    let degrade = match f.object("degrade")? {
        Some(d) => {
            Degrade { current: d.flag("current")?.unwrap_or(false), followings: d.flag("followings")?.unwrap_or(false) }
        }
        None => Degrade::default(),
    };
    let next_names = next_list(f, "next")?;
    Ok(Node {
        name: name.to_string(),
        kind,
        next: resolve(&next_names, index, f, "next")?,
        data: DataFlow::Mappings { input, output },
        retry,
        catch: Vec::new(),
        tolerance: f.flag("tolerance")?.unwrap_or(false),
        timeout_secs,
        degrade,
        definition: Json::Object(f.map.clone()),
    })
}

/// `next` as a comma-separated string (blank parts ignored) or a list of names.
fn next_list(f: &Fields<'_>, key: &str) -> Result<Vec<String>, DefinitionError> {
    let names = f.strings(key)?;
    Ok(names.iter().flat_map(|n| n.split(',')).map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect())
}

fn function(f: &Fields<'_>) -> Result<NodeKind, DefinitionError> {
    let resource_name = f.required_text("resourceName")?;
    let protocol = f.text("resourceProtocol")?.unwrap_or_default();
    let resource = match url_resource(&resource_name).map_err(|e| f.err("resourceName", e))? {
        Resource::Unsupported { .. } if protocol == "function" && !resource_name.contains("://") => {
            Resource::Function { name: resource_name }
        }
        resource => resource,
    };
    let pattern = match f.text("pattern")?.as_deref() {
        None | Some("task_sync" | "flow_sync" | "flow_async" | "task_scheduler") => TaskPattern::Sync,
        Some("task_async") => TaskPattern::Async,
        Some(other) => return Err(f.err("pattern", format!("unknown pattern {other:?}"))),
    };
    let method = match f.text("requestType")?.map(|m| m.to_ascii_lowercase()).as_deref() {
        None | Some("post") => HttpMethod::Post,
        Some("get") => HttpMethod::Get,
        Some(other) => return Err(f.err("requestType", format!("unknown requestType {other:?}; expected get or post"))),
    };
    let success_conditions = conditions(f, "successConditions", &as_written)?;
    Ok(NodeKind::Task(TaskSpec { resource, pattern, method, success_conditions }))
}

/// `choices[{condition, tasks}]`, each branch a nested DAG block; `condition: default` is
/// the default branch. Branches are tried in order and the first match runs.
fn choice(f: &Fields<'_>, path: &str) -> Result<NodeKind, DefinitionError> {
    let cases = f.items("choices")?;
    if cases.is_empty() {
        return Err(f.err("choices", "must list at least one choice"));
    }
    let mut spec = ChoiceSpec { rules: Vec::new(), default: None, first_match: true };
    for (i, case) in cases.iter().enumerate() {
        let text = case.required_text("condition")?;
        let target = ChoiceTarget::Block(block(case, "tasks", path)?);
        if text == "default" {
            spec.default = Some(target);
        } else {
            let condition = Condition::parse(&text).map_err(f.data_err(&format!("choices[{i}].condition")))?;
            spec.rules.push(ChoiceRule { condition, stop: true, target });
        }
    }
    Ok(NodeKind::Choice(spec))
}

/// `switches[{condition, next, break}]`: every matching case fires unless `break: true`.
fn switch(f: &Fields<'_>, index: &HashMap<String, usize>) -> Result<NodeKind, DefinitionError> {
    let cases = f.items("switches")?;
    if cases.is_empty() {
        return Err(f.err("switches", "must list at least one case"));
    }
    let mut spec = ChoiceSpec { rules: Vec::new(), default: None, first_match: false };
    for (i, case) in cases.iter().enumerate() {
        let text = case.required_text("condition")?;
        let targets = resolve(&next_list(case, "next")?, index, case, "next")?;
        if text == "default" {
            spec.default = Some(ChoiceTarget::Next(targets));
        } else {
            let condition = Condition::parse(&text).map_err(f.data_err(&format!("switches[{i}].condition")))?;
            let stop = case.flag("break")?.unwrap_or(false);
            spec.rules.push(ChoiceRule { condition, stop, target: ChoiceTarget::Next(targets) });
        }
    }
    Ok(NodeKind::Choice(spec))
}

/// `iterationMapping{collection, item, index}` over the nested `tasks`. A bare collection
/// name (legacy) means `$.input.<name>`. `synchronization.conditions` are checked, not kept.
fn foreach(f: &Fields<'_>, path: &str) -> Result<NodeKind, DefinitionError> {
    let iteration = f.object("iterationMapping")?.ok_or_else(|| f.err("iterationMapping", "is required"))?;
    let text = iteration.required_text("collection")?;
    let text = if text.starts_with('$') { text } else { format!("$.input.{text}") };
    let collection = Source::Path(Path::parse(&text).map_err(iteration.data_err("collection"))?);
    let max_concurrency = match f.object("synchronization")? {
        Some(sync) => {
            conditions(&sync, "conditions", &as_written)?;
            sync.count("maxConcurrency")?.unwrap_or(0)
        }
        None => 0,
    };
    Ok(NodeKind::Foreach(Box::new(ForeachSpec {
        collection,
        item_key: iteration.text("item")?,
        index_key: iteration.text("index")?,
        max_concurrency: max_concurrency as usize,
        block: block(f, "tasks", path)?,
        output: ForeachOutput::SubContext,
    })))
}

/// The first segment of a `$.<task>...` shorthand value, when it names a task of the block.
fn shorthand_task<'a>(value: &'a str, index: &HashMap<String, usize>) -> Option<&'a str> {
    let rest = value.trim().strip_prefix("$.")?;
    let first = rest.split(['.', '[']).next()?;
    (first != "context" && first != "input" && index.contains_key(first)).then_some(first)
}

/// Tasks whose output some `input:` shorthand in the block reads.
fn shorthand_exports(items: &[Fields<'_>], index: &HashMap<String, usize>) -> HashSet<String> {
    let values = items.iter().filter_map(|item| item.get("input")).filter_map(Json::as_object).flat_map(|m| m.values());
    values.filter_map(Json::as_str).filter_map(|v| shorthand_task(v, index)).map(String::from).collect()
}

/// Rill Flow's newer `input:` shorthand, converted best effort into input mappings: key
/// `a.b` → target `$.input.a.b`; `$.context...`/`$.input...` values are paths; a value
/// `$.<task>.<rest>` reads `$.context.<task>.<rest>`, and that task gets an output mapping
/// saving its whole output at `$.context.<task>` (Rill Flow generates one mapping per
/// field instead); `{transform: ...}` is a transform-only mapping; anything else a constant.
fn shorthand(f: &Fields<'_>, index: &HashMap<String, usize>) -> Result<Vec<Mapping>, DefinitionError> {
    let Some(input) = f.get("input") else { return Ok(Vec::new()) };
    let Json::Object(map) = input else { return Err(f.err("input", "must be a mapping")) };
    let mut result = Vec::new();
    for (key, value) in map {
        let field = format!("input.{key}");
        let target = Path::parse(&format!("$.input.{key}")).map_err(f.data_err(&field))?;
        let (source, transform) = match value {
            Json::String(text) if text.trim_start().starts_with('$') => {
                let text = match shorthand_task(text, index) {
                    Some(_) => format!("$.context.{}", text.trim().trim_start_matches("$.")),
                    None => text.clone(),
                };
                (Some(Source::Path(Path::parse(&text).map_err(f.data_err(&field))?)), None)
            }
            Json::Object(spec) if spec.contains_key("transform") => {
                let text = spec.get("transform").and_then(Json::as_str).unwrap_or_default();
                (None, Some(transform_script(text).map_err(|e| f.err(&field, e))?))
            }
            other => (Some(Source::Const(other.clone())), None),
        };
        result.push(Mapping { source, target, transform });
    }
    Ok(result)
}

/// Rejects a cycle, naming a task on it. Iterative (an explicit stack), so a chain of
/// any length cannot overflow the thread's stack.
fn check_acyclic(nodes: &[Node], path: &str) -> Result<(), DefinitionError> {
    let successors: Vec<Vec<usize>> = nodes.iter().map(Node::successors).collect();
    let mut state = vec![Visit::New; nodes.len()];
    for start in 0..nodes.len() {
        if let Some(cycle) = find_cycle(start, &successors, &mut state) {
            let names: Vec<&str> = cycle.iter().map(|&i| nodes[i].name.as_str()).collect();
            return Err(DefinitionError {
                task: Some(task_path(path, names[0])),
                field: Some("next".into()),
                message: format!("the tasks form a cycle: {}", names.join(" → ")),
            });
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    OnTrail,
    Done,
}

/// Depth-first search from `start`; returns the cycle (first node repeated at the end)
/// if one is reachable. The trail holds each node on the current path with the index of
/// the next successor to try.
fn find_cycle(start: usize, successors: &[Vec<usize>], state: &mut [Visit]) -> Option<Vec<usize>> {
    if state[start] != Visit::New {
        return None;
    }
    state[start] = Visit::OnTrail;
    let mut trail: Vec<(usize, usize)> = vec![(start, 0)];
    while let Some(&mut (at, ref mut next_edge)) = trail.last_mut() {
        let Some(&next) = successors[at].get(*next_edge) else {
            state[at] = Visit::Done;
            trail.pop();
            continue;
        };
        *next_edge += 1;
        match state[next] {
            Visit::Done => {}
            Visit::OnTrail => {
                let from = trail.iter().position(|&(i, _)| i == next).unwrap_or(0);
                let mut cycle: Vec<usize> = trail[from..].iter().map(|&(i, _)| i).collect();
                cycle.push(next);
                return Some(cycle);
            }
            Visit::New => {
                state[next] = Visit::OnTrail;
                trail.push((next, 0));
            }
        }
    }
    None
}
