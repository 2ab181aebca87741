//! `cloudexec flow deploy|start|get|history` against a running server, and `cloudexec
//! flow run`, which runs a flow without one (see [`crate::cli::flow_run`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::ClientFlags;
use super::api::{Api, Send, segment};
use crate::cli::{CliError, ExitCode, parse_json, read_file};

/// `cloudexec flow ...`.
#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// Create a flow from a YAML file, or add a version when it exists.
    Deploy(DeployArgs),
    /// Start an execution (with `--sync`, wait for its end and print it).
    Start(StartArgs),
    /// Print an execution: status, progress, every task, output.
    Get(IdArgs),
    /// Print an execution's history.
    History(IdArgs),
    /// Print an execution's history as it happens, until the execution ends (the
    /// server-sent events of `GET /v1/executions/{id}/events`).
    Watch(IdArgs),
    /// Run a flow locally, without a server: functions come from `--bind` wasm files.
    Run(crate::cli::flow_run::RunArgs),
}

/// Arguments of `cloudexec flow deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The definition (DAG YAML, state-machine spec or FDL).
    pub file: PathBuf,
    /// The flow's name (default: the definition's own, `workspace:dagName` for a DAG).
    #[arg(long)]
    pub name: Option<String>,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec flow start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The flow's name.
    pub flow: String,
    /// The input object.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// A unique execution name (starting it again returns the running one).
    #[arg(long)]
    pub name: Option<String>,
    /// Wait for the end (at most --timeout-ms) and print the execution.
    #[arg(long)]
    pub sync: bool,
    /// Longest a sync start waits.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// An execution id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The execution's id.
    pub id: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

pub(in crate::cli) fn flow(command: FlowCommand) -> Result<ExitCode, CliError> {
    match command {
        FlowCommand::Deploy(args) => deploy(args),
        FlowCommand::Start(args) => start(args),
        FlowCommand::Get(args) => get(args),
        FlowCommand::History(args) => history(args),
        FlowCommand::Watch(args) => watch(args),
        FlowCommand::Run(args) => crate::cli::flow_run::run(args),
    }
}

fn deploy(args: DeployArgs) -> Result<ExitCode, CliError> {
    let text = read_file(&args.file)?;
    let api = Api::new(&args.flags)?;
    let query: Vec<(&str, String)> = args.name.iter().map(|n| ("name", n.clone())).collect();
    let answer = api.send("/v1/flows", &query, Send::Post("text/yaml", &text))?;
    let answer = if answer.status == 409 {
        let name = match &args.name {
            Some(name) => name.clone(),
            None => api.refused(&answer).message.split('"').nth(1).unwrap_or_default().to_string(),
        };
        api.send(&format!("/v1/flows/{}", segment(&name)), &[], Send::Put("text/yaml", &text))?
    } else {
        answer
    };
    let answer = api.expect_ok(answer)?;
    let flow: Value = answer.decode()?;
    match api.json {
        true => println!("{}", answer.body),
        false => println!(
            "flow {} version {} ({})",
            flow["name"].as_str().unwrap_or_default(),
            flow["version"],
            flow["format"].as_str().unwrap_or_default()
        ),
    }
    Ok(ExitCode::Ok)
}

fn start(args: StartArgs) -> Result<ExitCode, CliError> {
    let input = parse_json("--input", &args.input)?;
    let api = Api::new(&args.flags)?;
    let body = json!({ "input": input, "name": args.name }).to_string();
    let mut query = Vec::new();
    if args.sync {
        query = vec![("sync", "true".to_string()), ("timeout_ms", args.timeout_ms.to_string())];
    }
    let path = format!("/v1/flows/{}/executions", segment(&args.flow));
    let answer = api.expect_ok(api.send(&path, &query, Send::Post("application/json", body.as_bytes()))?)?;
    let started: Value = answer.decode()?;
    let id = started["execution_id"].as_str().unwrap_or_default().to_string();
    if !args.sync {
        match api.json {
            true => println!("{}", answer.body),
            false => println!("execution: {id}"),
        }
        return Ok(ExitCode::Ok);
    }
    show(&api, &id)
}

fn get(args: IdArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    show(&api, &args.id)
}

/// Prints an execution and exits by its status.
fn show(api: &Api, id: &str) -> Result<ExitCode, CliError> {
    let (view, answer) = api.get::<Value>(&format!("/v1/executions/{}", segment(id)), &[])?;
    if api.json {
        println!("{}", answer.body);
    } else {
        print_execution(&view);
    }
    Ok(exit_of(&view))
}

/// The exit code an execution's status maps to: 0 succeeded, 4 timed out, 1 otherwise.
pub(in crate::cli) fn exit_of(view: &Value) -> ExitCode {
    match view["status"].as_str() {
        Some("Succeeded") => ExitCode::Ok,
        Some("TimedOut") => ExitCode::Deadline,
        _ => ExitCode::GuestError,
    }
}

/// Status, progress, one line per task, then the output or the error.
pub(in crate::cli) fn print_execution(view: &Value) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    println!("execution {} {} ({}%)", text(&view["execution_id"]), text(&view["status"]), view["process"]);
    let tasks = view["tasks"].as_array().cloned().unwrap_or_default();
    let width = tasks.iter().map(|t| text(&t["key"]).len()).max().unwrap_or(0);
    for task in &tasks {
        let mut line = format!("  {:<width$}  {:<11}", text(&task["key"]), text(&task["status"]));
        if task["attempt"].as_u64().unwrap_or(0) > 1 {
            line.push_str(&format!("  attempts {}", task["attempt"]));
        }
        if let Some(error) = task["error"].as_object() {
            line.push_str(&format!("  {}: {}", text(&error["error"].clone()), text(&error["cause"].clone())));
        }
        println!("{}", line.trim_end());
    }
    match view["output"].is_null() {
        false => println!("output: {}", view["output"]),
        true if !view["error"].is_null() => println!("error: {}", view["error"]),
        true => {}
    }
}

fn history(args: IdArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let path = format!("/v1/executions/{}/history", segment(&args.id));
    let mut after = 0;
    loop {
        let (page, answer) = api.get::<Value>(&path, &[("after", after.to_string()), ("limit", "1000".into())])?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        for event in &events {
            print_event(event, api.json);
        }
        let _ = answer;
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return Ok(ExitCode::Ok),
        }
    }
}

/// One history event as `flow history` prints it.
fn print_event(event: &Value, json: bool) {
    match json {
        true => println!("{event}"),
        false => println!(
            "{:>5}  {}  {:<22} {}",
            event["seq"],
            event["time"].as_str().unwrap_or_default(),
            event["kind"].as_str().unwrap_or_default(),
            event["node"].as_str().unwrap_or_default()
        ),
    }
}

fn watch(args: IdArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let path = format!("/v1/executions/{}/events", segment(&args.id));
    api.follow_events(&path, |kind, data| {
        let value: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        if kind == "end" {
            if !api.json {
                println!("ended: {}", value["status"].as_str().unwrap_or_default());
            }
            return false;
        }
        print_event(&value, api.json);
        true
    })?;
    Ok(ExitCode::Ok)
}
