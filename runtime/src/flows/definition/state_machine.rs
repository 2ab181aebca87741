//! The state-machine spec (`Type: StateMachine`, `SpecVersion: v1`, `StartAt`, `States`)
//! → [`FlowGraph`] with sequence blocks. `States` may be CloudFlow's list of states with
//! `Name`s or the AWS-style map of name → state.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::DefinitionError;
use super::common::{Fields, RetryNames, fc_function, index_names, resolve, retry_rule, task_path, url_resource};
use crate::flows::data::{Condition, Path, Source, fill_template};
use crate::flows::graph::{
    Block, BlockMode, CatchRule, ChoiceRule, ChoiceSpec, ChoiceTarget, DataFlow, Degrade, FlowFormat, FlowGraph,
    ForeachOutput, ForeachSpec, HttpMethod, Node, NodeKind, PathFlow, Resource, RetryRule, TaskPattern, TaskSpec,
    WaitSpec,
};

type Index = HashMap<String, usize>;

/// Reads a state-machine document.
pub(super) fn parse(doc: &Map<String, Json>) -> Result<FlowGraph, DefinitionError> {
    let top = Fields::top(doc);
    if let Some(version) = top.text("SpecVersion")?
        && version != "v1"
    {
        return Err(top.err("SpecVersion", format!("unknown SpecVersion {version:?}; expected \"v1\"")));
    }
    Ok(FlowGraph {
        format: FlowFormat::StateMachine,
        name: top.text("Name")?.unwrap_or_default(),
        workspace: None,
        root: machine(&top, "")?,
        default_context: Map::new(),
        timeout_secs: top.number("TimeoutSeconds")?,
    })
}

/// The `StartAt` + `States` of `f` as a sequence block; nested names are prefixed by `path`.
fn machine(f: &Fields<'_>, path: &str) -> Result<Block, DefinitionError> {
    let (names, states) = state_list(f)?;
    if states.is_empty() {
        return Err(f.err("States", "must list at least one state"));
    }
    let index = index_names(&names, &states, path)?;
    let start_name = f.required_text("StartAt")?;
    let start = *index.get(&start_name).ok_or_else(|| f.err("StartAt", format!("no state named {start_name:?}")))?;
    let nodes = states
        .iter()
        .zip(&names)
        .map(|(state, name)| node(&state.with_task(&task_path(path, name)), name, &index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Block::new(BlockMode::Sequence, nodes, Some(vec![start])))
}

/// The states with their names, from a list (each with `Name`) or a map.
fn state_list<'a>(f: &Fields<'a>) -> Result<(Vec<String>, Vec<Fields<'a>>), DefinitionError> {
    match f.get("States") {
        Some(Json::Object(map)) => {
            let all = f.object("States")?.ok_or_else(|| f.err("States", "must be a mapping"))?;
            let mut states = Vec::new();
            for name in map.keys() {
                states.push(all.object(name)?.ok_or_else(|| all.err(name, "must be a mapping"))?);
            }
            Ok((map.keys().cloned().collect(), states))
        }
        _ => {
            let states = f.items("States")?;
            let names = states.iter().map(|s| s.required_text("Name")).collect::<Result<Vec<_>, _>>()?;
            Ok((names, states))
        }
    }
}

fn node(f: &Fields<'_>, name: &str, index: &Index) -> Result<Node, DefinitionError> {
    let path = f.task.clone().unwrap_or_default();
    let kind_name = f.required_text("Type")?;
    let mut data = path_flow(f)?;
    let kind = match kind_name.as_str() {
        "Task" => task(f, &mut data)?,
        "Pass" => NodeKind::Pass { result: f.get("Result").cloned() },
        "Choice" => choice(f, index)?,
        "Parallel" => parallel(f, &path)?,
        "Map" => map(f, &path)?,
        "Wait" => wait(f)?,
        "Succeed" => NodeKind::Succeed,
        "Fail" => fail(f)?,
        other => return Err(f.err("Type", format!("unknown Type {other:?}"))),
    };
    let terminal = matches!(kind_name.as_str(), "Choice" | "Succeed" | "Fail");
    let next = match f.text("Next")? {
        Some(next) if !terminal => resolve(&[next], index, f, "Next")?,
        _ => Vec::new(),
    };
    if !terminal && next.is_empty() && !f.flag("End")?.unwrap_or(false) {
        return Err(f.err("Next", "a state needs `Next` or `End: true`"));
    }
    Ok(Node {
        name: name.to_string(),
        kind,
        next,
        data: DataFlow::Paths(data),
        retry: f.items("Retry")?.iter().map(retry).collect::<Result<_, _>>()?,
        catch: f.items("Catch")?.iter().map(|c| catch(c, index)).collect::<Result<_, _>>()?,
        tolerance: false,
        timeout_secs: f.number("TimeoutSeconds")?,
        degrade: Degrade::default(),
        definition: Json::Object(f.map.clone()),
    })
}

fn optional_path(f: &Fields<'_>, key: &str) -> Result<Option<Path>, DefinitionError> {
    match f.get(key) {
        None => Ok(None),
        Some(Json::String(text)) => Path::parse(text).map(Some).map_err(f.data_err(key)),
        Some(_) => Err(f.err(key, "must be a path string")),
    }
}

fn template(f: &Fields<'_>, keys: &[&str]) -> Result<Option<Json>, DefinitionError> {
    for key in keys {
        if let Some(value) = f.get(key) {
            fill_template(value, &Json::Null).map_err(f.data_err(key))?;
            return Ok(Some(value.clone()));
        }
    }
    Ok(None)
}

/// InputPath, Parameters|InputConstructor, ResultSelector|OutputConstructor, ResultPath
/// (explicit `null` discards the result) and OutputPath.
fn path_flow(f: &Fields<'_>) -> Result<PathFlow, DefinitionError> {
    Ok(PathFlow {
        input_path: optional_path(f, "InputPath")?,
        parameters: template(f, &["Parameters", "InputConstructor"])?,
        result_selector: template(f, &["ResultSelector", "OutputConstructor"])?,
        result_path: optional_path(f, "ResultPath")?,
        discard_result: f.map.get("ResultPath") == Some(&Json::Null),
        output_path: optional_path(f, "OutputPath")?,
    })
}

/// `Resource` (URL, `function://name`, `fc:name` or a bare function name) or CloudFlow
/// `Action` (`FC:InvokeFunction` with `Parameters.resourceArn`/`functionName`, whose
/// `.../functions/<name>` part names the function; `HTTP:Request` with `Parameters.url`
/// and `method`). For an `Action`, `InputConstructor` or else `Parameters.body` is the input
/// template.
fn task(f: &Fields<'_>, data: &mut PathFlow) -> Result<NodeKind, DefinitionError> {
    let mut method = HttpMethod::Post;
    let resource = match (f.text("Resource")?, f.text("Action")?) {
        (Some(resource), _) => state_resource(&resource).map_err(|e| f.err("Resource", e))?,
        (None, Some(action)) => {
            let params = f.object("Parameters")?;
            let param = |key: &str| params.as_ref().and_then(|p| p.get(key)).and_then(Json::as_str);
            if param("method").is_some_and(|m| m.eq_ignore_ascii_case("get")) {
                method = HttpMethod::Get;
            }
            data.parameters =
                template(f, &["InputConstructor"])?.or_else(|| params.as_ref().and_then(|p| p.get("body")).cloned());
            action_resource(&action, param("resourceArn").or(param("functionName")).or(param("url")))
        }
        (None, None) => return Err(f.err("Resource", "a Task needs `Resource` or `Action`")),
    };
    let pattern = match (f.text("TaskMode")?, f.text("Pattern")?) {
        (Some(mode), _) if mode == "WaitForCustomCallback" => TaskPattern::Async,
        (_, Some(pattern)) if pattern.eq_ignore_ascii_case("async") => TaskPattern::Async,
        _ => TaskPattern::Sync,
    };
    Ok(NodeKind::Task(TaskSpec { resource, pattern, method, success_conditions: Vec::new() }))
}

fn state_resource(text: &str) -> Result<Resource, String> {
    let text = text.trim();
    if let Some(name) = text.strip_prefix("fc:").filter(|n| !n.is_empty() && !n.contains(':')) {
        return Ok(Resource::Function { name: name.to_string() });
    }
    if !text.is_empty() && !text.contains(':') && !text.contains('/') {
        return Ok(Resource::Function { name: text.to_string() });
    }
    url_resource(text)
}

fn action_resource(action: &str, target: Option<&str>) -> Resource {
    let unsupported = || Resource::Unsupported { resource: action.to_string() };
    match (action, target) {
        ("FC:InvokeFunction", Some(arn)) => {
            let name = if arn.contains("functions/") { fc_function(arn) } else { Some(arn.trim()) };
            name.filter(|n| !n.is_empty())
                .map_or_else(unsupported, |name| Resource::Function { name: name.to_string() })
        }
        ("HTTP:Request", Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
            Resource::Http { url: url.to_string() }
        }
        _ => unsupported(),
    }
}

/// `Choices` or `Branches` of `{Condition, Next}` plus `Default`; the first match wins.
fn choice(f: &Fields<'_>, index: &Index) -> Result<NodeKind, DefinitionError> {
    let key = if f.get("Choices").is_some() { "Choices" } else { "Branches" };
    let cases = f.items(key)?;
    if cases.is_empty() {
        return Err(f.err("Choices", "a Choice needs at least one rule"));
    }
    let mut spec = ChoiceSpec { rules: Vec::new(), default: None, first_match: true };
    for case in &cases {
        let text = match case.get("Condition") {
            Some(Json::String(text)) => text.clone(),
            _ => return Err(case.err("Condition", "must be an expression string")),
        };
        let condition = Condition::parse(&text).map_err(case.data_err("Condition"))?;
        let next = resolve(&[case.required_text("Next")?], index, case, "Next")?;
        spec.rules.push(ChoiceRule { condition, stop: true, target: ChoiceTarget::Next(next) });
    }
    if let Some(default) = f.text("Default")? {
        spec.default = Some(ChoiceTarget::Next(resolve(&[default], index, f, "Default")?));
    }
    Ok(NodeKind::Choice(spec))
}

fn parallel(f: &Fields<'_>, path: &str) -> Result<NodeKind, DefinitionError> {
    let branches = f.items("Branches")?;
    if branches.is_empty() {
        return Err(f.err("Branches", "a Parallel needs at least one branch"));
    }
    let branches = branches.iter().map(|b| machine(b, path)).collect::<Result<_, _>>()?;
    Ok(NodeKind::Parallel { branches })
}

fn map(f: &Fields<'_>, path: &str) -> Result<NodeKind, DefinitionError> {
    let items_path =
        optional_path(f, "ItemsPath")?.map_or_else(|| Path::parse("$"), Ok).map_err(f.data_err("ItemsPath"))?;
    let processor = match f.object("Processor")? {
        Some(p) => p,
        None => f.object("Iterator")?.ok_or_else(|| f.err("Processor", "a Map needs `Processor`"))?,
    };
    Ok(NodeKind::Foreach(Box::new(ForeachSpec {
        collection: Source::Path(items_path),
        item_key: None,
        index_key: None,
        max_concurrency: f.count("MaxConcurrency")?.unwrap_or(0) as usize,
        block: machine(&processor, path)?,
        output: ForeachOutput::Array,
    })))
}

fn wait(f: &Fields<'_>) -> Result<NodeKind, DefinitionError> {
    if let Some(seconds) = f.number("Seconds")? {
        return Ok(NodeKind::Wait(WaitSpec::Seconds(seconds)));
    }
    match optional_path(f, "SecondsPath")? {
        Some(path) => Ok(NodeKind::Wait(WaitSpec::SecondsPath(path))),
        None => Err(f.err("Seconds", "a Wait needs `Seconds` or `SecondsPath`")),
    }
}

fn fail(f: &Fields<'_>) -> Result<NodeKind, DefinitionError> {
    let error = f.text("Error")?.or(f.text("Code")?).unwrap_or_default();
    let cause = f.text("Cause")?.or(f.text("Detail")?).unwrap_or_default();
    Ok(NodeKind::Fail { error, cause })
}

/// `Retry[]`: `MaxAttempts`, `IntervalSeconds`, `BackoffRate`, `MaxBackoffSeconds`.
fn retry(r: &Fields<'_>) -> Result<RetryRule, DefinitionError> {
    let names = RetryNames {
        errors: "Errors",
        max_attempts: "MaxAttempts",
        interval: "IntervalSeconds",
        rate: "BackoffRate",
        max_interval: "MaxBackoffSeconds",
    };
    retry_rule(r, &names)
}

fn catch(c: &Fields<'_>, index: &Index) -> Result<CatchRule, DefinitionError> {
    let next = resolve(&[c.required_text("Next")?], index, c, "Next")?;
    Ok(CatchRule { errors: c.strings("Errors")?, next: next[0], result_path: optional_path(c, "ResultPath")? })
}
