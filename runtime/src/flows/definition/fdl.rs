//! Old-format FDL (`version`, `type: flow`, `steps:`) → [`FlowGraph`] with sequence blocks.
//!
//! Data model: the flow data is the context. In mappings, `$input.x` (the step's input,
//! which is the flow data) reads `$.context.x`; `$local.x` reads `$.context.x` in input
//! mappings (the data accumulated so far) and `$.output.x` in output mappings (the step's
//! result); `$context.x` (execution metadata such as `task.token`) reads `$.execution.x`.
//! Bare targets mean `$.input.<t>` (input) and `$.context.<t>` (output). Conditions and
//! foreach collections are rebased the same way: `$.x` reads `$.context.x`.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::DefinitionError;
use super::common::{Fields, RetryNames, index_names, mappings, resolve, retry_rule, task_path, url_resource};
use crate::flows::data::{Condition, Path, Source, strip_root};
use crate::flows::graph::{
    Block, BlockMode, CatchRule, ChoiceRule, ChoiceSpec, ChoiceTarget, DataFlow, Degrade, FlowFormat, FlowGraph,
    ForeachOutput, ForeachSpec, HttpMethod, Node, NodeKind, RetryRule, TaskPattern, TaskSpec, WaitSpec,
};

type Index = HashMap<String, usize>;

/// Reads an FDL document.
pub(super) fn parse(doc: &Map<String, Json>) -> Result<FlowGraph, DefinitionError> {
    let top = Fields::top(doc);
    if let Some(version) = top.text("version")?
        && version != "v1"
        && version != "v1beta1"
    {
        return Err(top.err("version", format!("unknown version {version:?}; expected v1 or v1beta1")));
    }
    if let Some(kind) = top.text("type")?
        && kind != "flow"
    {
        return Err(top.err("type", format!("unknown type {kind:?}; expected \"flow\"")));
    }
    Ok(FlowGraph {
        format: FlowFormat::Fdl,
        name: top.text("name")?.unwrap_or_default(),
        workspace: None,
        root: steps(&top, "steps", "")?,
        default_context: Map::new(),
        timeout_secs: None,
    })
}

/// Rewrites an FDL mapping source; `local` is what `$local` reads.
fn source_path(text: &str, local: &str) -> String {
    let text = text.trim();
    if let Some(rest) = strip_root(text, "$input") {
        format!("$.context{rest}")
    } else if let Some(rest) = strip_root(text, "$local") {
        format!("{local}{rest}")
    } else if let Some(rest) = strip_root(text, "$context") {
        format!("$.execution{rest}")
    } else {
        text.to_string()
    }
}

/// Rewrites a condition or collection path: FDL roots as in input mappings, `$.x` → `$.context.x`.
fn data_path(text: &str) -> String {
    let text = text.trim();
    if text.starts_with("$input") || text.starts_with("$local") || text.starts_with("$context") {
        return source_path(text, "$.context");
    }
    match strip_root(text, "$") {
        Some(rest) => format!("$.context{rest}"),
        None => text.to_string(),
    }
}

/// The sequence block of steps under `key`; nested names are prefixed by `path`.
fn steps(parent: &Fields<'_>, key: &str, path: &str) -> Result<Block, DefinitionError> {
    let items = parent.items(key)?;
    if items.is_empty() {
        return Err(parent.err(key, "must list at least one step"));
    }
    let names = items.iter().map(|item| item.required_text("name")).collect::<Result<Vec<_>, _>>()?;
    let index = index_names(&names, &items, path)?;
    let count = items.len();
    let nodes = items
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (item, name))| step(&item.with_task(&task_path(path, name)), name, i + 1 < count, i + 1, &index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Block::new(BlockMode::Sequence, nodes, Some(vec![0])))
}

/// One step; it continues to the following step (`following`) unless it has `goto`,
/// `end: true` or is a succeed/fail step.
fn step(
    f: &Fields<'_>,
    name: &str,
    has_following: bool,
    following: usize,
    index: &Index,
) -> Result<Node, DefinitionError> {
    let path = f.task.clone().unwrap_or_default();
    let kind_name = f.required_text("type")?;
    let kind = match kind_name.as_str() {
        "task" => task(f)?,
        "pass" => NodeKind::Pass { result: None },
        "choice" => choice(f, index, &path)?,
        "parallel" => parallel(f, &path)?,
        "foreach" => foreach(f, &path)?,
        "wait" => {
            NodeKind::Wait(WaitSpec::Seconds(f.number("duration")?.ok_or_else(|| f.err("duration", "is required"))?))
        }
        "succeed" => NodeKind::Succeed,
        "fail" => {
            NodeKind::Fail { error: f.text("error")?.unwrap_or_default(), cause: f.text("cause")?.unwrap_or_default() }
        }
        other => return Err(f.err("type", format!("unknown type {other:?}"))),
    };
    let next = match f.text("goto")? {
        Some(target) => resolve(&[target], index, f, "goto")?,
        None if f.flag("end")?.unwrap_or(false) || matches!(kind_name.as_str(), "succeed" | "fail") => Vec::new(),
        None if has_following => vec![following],
        None => Vec::new(),
    };
    let input = mappings(f, "inputMappings", "$.input", &|s| source_path(s, "$.context"))?;
    let output = mappings(f, "outputMappings", "$.context", &|s| source_path(s, "$.output"))?;
    Ok(Node {
        name: name.to_string(),
        kind,
        next,
        data: DataFlow::Mappings { input, output },
        retry: f.items("retry")?.iter().map(retry).collect::<Result<_, _>>()?,
        catch: f.items("catch")?.iter().map(|c| catch(c, index)).collect::<Result<_, _>>()?,
        tolerance: false,
        timeout_secs: f.number("timeoutSeconds")?,
        degrade: Degrade::default(),
        definition: Json::Object(f.map.clone()),
    })
}

/// `resourceArn` (possibly a `!Ref` value) or `action`: an http(s) URL, `function://name`
/// or a function-compute ARN (`acs:fc:…:services/<service>/functions/<name>`: the app's
/// function `<name>`) is run; anything else (cloud-service actions, sub-flows) is
/// unsupported.
fn task(f: &Fields<'_>) -> Result<NodeKind, DefinitionError> {
    let (field, text) = match (f.text("resourceArn")?, f.text("action")?) {
        (Some(arn), _) => ("resourceArn", arn),
        (None, Some(action)) => ("action", action),
        (None, None) => return Err(f.err("resourceArn", "a task needs `resourceArn` or `action`")),
    };
    let resource = url_resource(&text).map_err(|e| f.err(field, e))?;
    let pattern = match f.text("pattern")?.as_deref() {
        None | Some("sync" | "requestComplete") => TaskPattern::Sync,
        Some("waitForCallback") => TaskPattern::Async,
        Some(other) => return Err(f.err("pattern", format!("unknown pattern {other:?}"))),
    };
    Ok(NodeKind::Task(TaskSpec { resource, pattern, method: HttpMethod::Post, success_conditions: Vec::new() }))
}

/// A branch: `goto` a step of the same block, or nested `steps`.
fn branch(b: &Fields<'_>, index: &Index, path: &str) -> Result<ChoiceTarget, DefinitionError> {
    if let Some(target) = b.text("goto")? {
        return Ok(ChoiceTarget::Next(resolve(&[target], index, b, "goto")?));
    }
    if b.get("steps").is_some() {
        return Ok(ChoiceTarget::Block(steps(b, "steps", path)?));
    }
    Err(b.err("goto", "a branch needs `goto` or `steps`"))
}

/// `choices[{condition, goto | steps}]` and `default{goto | steps}`; the first match wins.
/// With no match and no default the choice continues like any step.
fn choice(f: &Fields<'_>, index: &Index, path: &str) -> Result<NodeKind, DefinitionError> {
    let cases = f.items("choices")?;
    if cases.is_empty() {
        return Err(f.err("choices", "must list at least one choice"));
    }
    let mut rules = Vec::new();
    for case in &cases {
        let text = case.required_text("condition")?;
        let condition = Condition::parse_with(&text, &data_path).map_err(case.data_err("condition"))?;
        rules.push(ChoiceRule { condition, stop: true, target: branch(case, index, path)? });
    }
    let default = match f.object("default")? {
        Some(default) => Some(branch(&default, index, path)?),
        None => None,
    };
    Ok(NodeKind::Choice(ChoiceSpec { rules, default, first_match: true }))
}

fn parallel(f: &Fields<'_>, path: &str) -> Result<NodeKind, DefinitionError> {
    let branches = f.items("branches")?;
    if branches.is_empty() {
        return Err(f.err("branches", "must list at least one branch"));
    }
    let branches = branches.iter().map(|b| steps(b, "steps", path)).collect::<Result<_, _>>()?;
    Ok(NodeKind::Parallel { branches })
}

/// `iterationMapping{collection, item, index}` over nested `steps`; the output is the
/// array of iteration results.
fn foreach(f: &Fields<'_>, path: &str) -> Result<NodeKind, DefinitionError> {
    let iteration = f.object("iterationMapping")?.ok_or_else(|| f.err("iterationMapping", "is required"))?;
    let text = iteration.required_text("collection")?;
    let collection = Path::parse(&data_path(&text)).map_err(iteration.data_err("collection"))?;
    Ok(NodeKind::Foreach(Box::new(ForeachSpec {
        collection: Source::Path(collection),
        item_key: iteration.text("item")?,
        index_key: iteration.text("index")?,
        max_concurrency: f.count("maxConcurrency")?.unwrap_or(0) as usize,
        block: steps(f, "steps", path)?,
        output: ForeachOutput::Array,
    })))
}

/// `retry[]`: `maxAttempts`, `intervalSeconds`, `multiplier`, `maxIntervalSeconds`.
fn retry(r: &Fields<'_>) -> Result<RetryRule, DefinitionError> {
    let names = RetryNames {
        errors: "errors",
        max_attempts: "maxAttempts",
        interval: "intervalSeconds",
        rate: "multiplier",
        max_interval: "maxIntervalSeconds",
    };
    retry_rule(r, &names)
}

fn catch(c: &Fields<'_>, index: &Index) -> Result<CatchRule, DefinitionError> {
    let target = c.required_text("goto")?;
    let next = resolve(&[target], index, c, "goto")?;
    Ok(CatchRule { errors: c.strings("errors")?, next: next[0], result_path: None })
}
