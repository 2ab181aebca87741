//! `cloudexec bin upload`, `bind` and `instance create|run|get|path|destroy`: bins, their
//! function-key bindings and their execution instances on a running `cloudexec serve`,
//! over `/v1/bins`, `/v1/bindings` and `/v1/instances`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};
use serde::Deserialize;
use serde_json::json;

use super::ClientFlags;
use super::api::{Api, Send, segment};
use super::render::utc;
use crate::cli::report::{print_log, print_usage};
use crate::cli::{CliError, ExitCode, parse_json, read_file};
use crate::engine::{MachineState, Manifest, TypedValue};

/// `cloudexec bin ...`.
#[derive(Debug, Subcommand)]
pub enum BinCommand {
    /// Upload a bin component; prints its binId, the functions it calls and its state machines.
    Upload(BinUploadArgs),
}

/// Arguments of `cloudexec bin upload`.
#[derive(Debug, Args)]
pub struct BinUploadArgs {
    /// The bin component (.wasm), or a bin project directory to build first.
    #[arg(default_value = ".")]
    pub file: PathBuf,
    /// The bin's seed 000 `getVarUrl`: where reads of variables its instances do not
    /// hold are asked (`GET URL?instanceId=&varKey=`).
    #[arg(long)]
    pub get_var_url: Option<String>,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec bind`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["function", "url"])))]
pub struct BindArgs {
    /// The function key bins call, e.g. `utcook.jar:com.ut.BuzMethod.order`.
    pub function_key: String,
    /// A cloud function of the app, by name.
    #[arg(long)]
    pub function: Option<String>,
    /// An HTTP endpoint (http:// or https://): each call is POSTed to it, its JSON answer is the result.
    #[arg(long)]
    pub url: Option<String>,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// `cloudexec instance ...`.
#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Create an execution instance of a bin; prints its executeInstanceId.
    Create(InstanceCreateArgs),
    /// Run an instance once with variable updates; prints result, variables, state paths, log.
    Run(InstanceRunArgs),
    /// Print an instance's status, variables and state machines.
    Get(InstanceArgs),
    /// Print the path of one of an instance's state machines.
    Path(InstancePathArgs),
    /// Destroy an instance; later commands on it exit 10.
    Destroy(InstanceArgs),
}

/// Arguments of `cloudexec instance create`.
#[derive(Debug, Args)]
pub struct InstanceCreateArgs {
    /// The bin's id (from `cloudexec bin upload`).
    pub bin_id: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec instance run`.
#[derive(Debug, Args)]
pub struct InstanceRunArgs {
    /// The executeInstanceId.
    pub id: String,
    /// The run's variable updates, as a JSON object (`{"key": value}` or seed 000's
    /// `{"varList": [...]}` / `{"updateVarInfo": {...}}`).
    #[arg(long, default_value = "{}")]
    pub vars: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec instance get` and `destroy`.
#[derive(Debug, Args)]
pub struct InstanceArgs {
    /// The executeInstanceId.
    pub id: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec instance path`.
#[derive(Debug, Args)]
pub struct InstancePathArgs {
    /// The executeInstanceId.
    pub id: String,
    /// The state machine's number (`stateMachineNo`).
    #[arg(long, default_value_t = 1)]
    pub machine: u32,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// An uploaded bin, as far as the client prints it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BinAnswer {
    bin_id: String,
    #[serde(default)]
    module_sha256: String,
    manifest: Manifest,
}

/// The answer to instance creation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    execute_instance_id: String,
}

/// An instance with its state.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceAnswer {
    execute_instance_id: String,
    #[serde(default)]
    bin_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    runs: i64,
    #[serde(default)]
    last_error: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, TypedValue>,
    #[serde(default)]
    state_machines: BTreeMap<u32, MachineState>,
}

/// Why a run failed.
#[derive(Debug, Deserialize)]
struct RunError {
    kind: String,
    message: String,
}

/// The answer to a run.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunAnswer {
    committed: bool,
    result: String,
    #[serde(default)]
    error: Option<RunError>,
    #[serde(default)]
    log: String,
    #[serde(default)]
    mem_usage: u64,
    #[serde(default)]
    duration_ms: f64,
    instance: InstanceAnswer,
}

/// The answer to a state-machine path query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PathAnswer {
    state_machine_no: u32,
    current: String,
    path: Vec<crate::engine::PathEntry>,
}

pub(in crate::cli) fn bin(command: BinCommand) -> Result<ExitCode, CliError> {
    match command {
        BinCommand::Upload(args) => upload(args),
    }
}

pub(in crate::cli) fn instance(command: InstanceCommand) -> Result<ExitCode, CliError> {
    match command {
        InstanceCommand::Create(args) => create(args),
        InstanceCommand::Run(args) => run(args),
        InstanceCommand::Get(args) => get(args),
        InstanceCommand::Path(args) => path(args),
        InstanceCommand::Destroy(args) => destroy(args),
    }
}

fn upload(args: BinUploadArgs) -> Result<ExitCode, CliError> {
    let (file, _) = crate::cli::author::built_component(&args.file)?;
    let wasm = read_file(&file)?;
    let api = Api::new(&args.flags)?;
    let query: Vec<(&str, String)> = args.get_var_url.into_iter().map(|url| ("get_var_url", url)).collect();
    let answer = api.send("/v1/bins", &query, Send::Post("application/wasm", &wasm))?;
    if matches!(answer.status, 400 | 413) {
        return Err(CliError { code: ExitCode::ModuleRejected, ..api.refused(&answer) });
    }
    let answer = api.expect_ok(answer)?;
    let bin: BinAnswer = answer.decode()?;
    if api.json {
        println!("{}", answer.body);
        return Ok(ExitCode::Ok);
    }
    println!("uploaded bin {}", bin.bin_id);
    println!("bin: {}", bin.bin_id);
    println!("sha256: {}", bin.module_sha256);
    print_manifest(&bin.manifest);
    Ok(ExitCode::Ok)
}

fn print_manifest(manifest: &Manifest) {
    if manifest.functions.is_empty() {
        println!("functions: (none)");
    } else {
        println!("functions:");
        let width = manifest.functions.iter().map(|f| f.function_key.len()).max().unwrap_or(0);
        for f in &manifest.functions {
            let params = f.params_typelist.join(", ");
            println!("  {:<width$}  {}({params}) -> {}", f.function_key, f.function_name, f.return_type);
        }
    }
    if manifest.state_machines.is_empty() {
        println!("state machines: (none)");
        return;
    }
    println!("state machines:");
    for m in &manifest.state_machines {
        let moves = if m.transitions.is_empty() {
            "any move".to_string()
        } else {
            m.transitions.iter().map(|t| format!("{} -> {}", t.from, t.to)).collect::<Vec<_>>().join(", ")
        };
        println!("  {} {}: states {}; initial {}; {moves}", m.id, m.name, m.states.join(", "), m.initial);
    }
}

pub(in crate::cli) fn bind(args: BindArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let (body, target) = match (&args.function, &args.url) {
        (Some(name), _) => (json!({"function": name}), format!("function {name}")),
        (None, Some(url)) => (json!({"url": url}), url.clone()),
        (None, None) => return Err(CliError { message: "give --function or --url".into(), code: ExitCode::Usage }),
    };
    let path = format!("/v1/bindings/{}", segment(&args.function_key));
    let body = body.to_string();
    let answer = api.send(&path, &[], Send::Put("application/json", body.as_bytes()))?;
    let answer = api.expect_ok(answer)?;
    if api.json {
        println!("{}", answer.body);
    } else {
        println!("bound {} to {target}", args.function_key);
    }
    Ok(ExitCode::Ok)
}

fn create(args: InstanceCreateArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let body = json!({"binId": args.bin_id}).to_string();
    let answer = api.send("/v1/instances", &[], Send::Post("application/json", body.as_bytes()))?;
    let answer = api.expect_ok(answer)?;
    let created: Created = answer.decode()?;
    if api.json {
        println!("{}", answer.body);
    } else {
        println!("created instance {} of bin {}", created.execute_instance_id, args.bin_id);
        println!("instance: {}", created.execute_instance_id);
    }
    Ok(ExitCode::Ok)
}

fn run(args: InstanceRunArgs) -> Result<ExitCode, CliError> {
    let updates = parse_json("--vars", &args.vars)?;
    if !updates.is_object() {
        return Err(CliError::input("--vars must be a JSON object"));
    }
    let api = Api::new(&args.flags)?;
    let path = format!("/v1/instances/{}/runs", segment(&args.id));
    post_run(&api, &path, &updates.to_string())
}

/// POSTs a run to `path` and prints its report (shared with static-flow runs).
pub(super) fn post_run(api: &Api, path: &str, body: &str) -> Result<ExitCode, CliError> {
    let answer = api.send(path, &[], Send::Post("application/json", body.as_bytes()))?;
    let answer = api.expect_ok(answer)?;
    let report: RunAnswer = answer.decode()?;
    let code = run_exit_code(report.error.as_ref().map(|e| e.kind.as_str()));
    if api.json {
        println!("{}", answer.body);
        return Ok(code);
    }
    println!("result: {}", report.result);
    if let Some(error) = &report.error {
        println!("error: {} ({})", error.message, error.kind);
    }
    let committed = if report.committed { "yes" } else { "no (the run left no trace)" };
    println!("committed: {committed}");
    print_instance(&report.instance);
    print_log(&report.log);
    print_usage(report.mem_usage, Duration::from_secs_f64(report.duration_ms.max(0.0) / 1e3));
    Ok(code)
}

fn get(args: InstanceArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let (instance, answer): (InstanceAnswer, _) = api.get(&format!("/v1/instances/{}", segment(&args.id)), &[])?;
    if api.json {
        println!("{}", answer.body);
    } else {
        print_instance(&instance);
    }
    Ok(ExitCode::Ok)
}

/// Id, bin, status, runs, last error, variables and state machines of an instance.
fn print_instance(instance: &InstanceAnswer) {
    println!("instance: {}", instance.execute_instance_id);
    println!("bin: {}", instance.bin_id);
    println!("status: {}", instance.status);
    println!("runs: {}", instance.runs);
    if let Some(error) = &instance.last_error {
        println!("last error: {error}");
    }
    if instance.variables.is_empty() {
        println!("variables: (none)");
    } else {
        println!("variables:");
        for (key, value) in &instance.variables {
            println!("  {key} = {} (type {}, len {})", value.data, value.type_code, value.len);
        }
    }
    if instance.state_machines.is_empty() {
        println!("state machines: (none)");
    } else {
        println!("state machines:");
        for (id, machine) in &instance.state_machines {
            let path: Vec<&str> = machine.path.iter().map(|p| p.state.as_str()).collect();
            println!("  {id}: {} (path: {})", machine.current, path.join(" -> "));
        }
    }
}

fn path(args: InstancePathArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let query = [("stateMachineNo", args.machine.to_string())];
    let (answer_path, answer): (PathAnswer, _) =
        api.get(&format!("/v1/instances/{}/path", segment(&args.id)), &query)?;
    if api.json {
        println!("{}", answer.body);
        return Ok(ExitCode::Ok);
    }
    let states: Vec<&str> = answer_path.path.iter().map(|p| p.state.as_str()).collect();
    println!("state machine {}: {}", answer_path.state_machine_no, answer_path.current);
    println!("path: {}", states.join(" -> "));
    for entry in &answer_path.path {
        println!("  {}  {}", utc(entry.at_ms as f64 / 1e3), entry.state);
    }
    Ok(ExitCode::Ok)
}

fn destroy(args: InstanceArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let path = format!("/v1/instances/{}", segment(&args.id));
    let answer = api.send(&path, &[], Send::Delete)?;
    api.expect_ok(answer)?;
    if api.json {
        println!("{}", json!({"executeInstanceId": args.id, "destroyed": true}));
    } else {
        println!("destroyed instance {}", args.id);
    }
    Ok(ExitCode::Ok)
}

/// The exit code of a run, the same as `cloudexec run-bin` gives locally for each error kind.
fn run_exit_code(kind: Option<&str>) -> ExitCode {
    match kind {
        None => ExitCode::Ok,
        Some("deadline_exceeded") => ExitCode::Deadline,
        Some("memory_limit_exceeded") => ExitCode::Memory,
        Some("trap") => ExitCode::Trap,
        Some("busy") => ExitCode::Busy,
        Some(_) => ExitCode::GuestError,
    }
}
