//! `cloudexec deploy`, `call`, `jobs` and `logs`: the CLI as a client of a running
//! `cloudexec serve`, over its native `/v1` API.

mod api;
pub(super) mod bins;
pub(super) mod engine_layer;
pub(super) mod flows;
mod render;
pub(super) mod services;
pub(super) mod tokens;

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use self::api::{Api, Send, segment};
use self::render::{Accepted, FunctionAnswer, JobAnswer, JobPage, job_error, print_jobs};
use super::report::{print_log, print_usage};
use super::{CliError, ExitCode, PlanArg, parse_json, read_file};

/// Where the server is and how to talk to it; every client command takes these.
#[derive(Debug, Clone, Args)]
pub struct ClientFlags {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "CLOUDEXEC_SERVER")]
    pub server: String,
    /// The app's token (default: the `token` file in --data-dir).
    #[arg(long, env = "CLOUDEXEC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The server's data dir, read for its token when none is given.
    #[arg(long, default_value = "./data", env = "CLOUDEXEC_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Print the server's JSON answer as is.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cloudexec deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The function component (.wasm), or a project directory to build first.
    #[arg(default_value = ".")]
    pub file: PathBuf,
    /// The function's name (default: a project's own); an existing function of that
    /// name gets the new code.
    #[arg(long)]
    pub name: Option<String>,
    /// Free text.
    #[arg(long)]
    pub remark: Option<String>,
    /// Memory plan.
    #[arg(long, value_enum)]
    pub plan: Option<PlanArg>,
    /// Deadline of sync calls, ms.
    #[arg(long)]
    pub sync_timeout_ms: Option<u64>,
    /// Deadline of async calls, ms.
    #[arg(long)]
    pub async_timeout_ms: Option<u64>,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The function's name.
    pub name: String,
    /// The input, as JSON.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// Queue a batch job and print its id instead of waiting for the result.
    #[arg(long = "async")]
    pub is_async: bool,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// The function's name.
    pub name: String,
    /// Only jobs in this status (`waiting`, `executing`, `fulfilled`, `execution_failed`, ...).
    #[arg(long)]
    pub status: Option<String>,
    /// Only jobs from this source (`open_api`, ...).
    #[arg(long)]
    pub source: Option<String>,
    /// Only `time_sensitive` (sync) or `batch` (async) jobs.
    #[arg(long)]
    pub service_type: Option<String>,
    /// Jobs per page (server default 20, at most 1000).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Jobs skipped, newest first.
    #[arg(long)]
    pub offset: Option<u32>,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The job's id.
    pub job_id: i64,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Query pairs for the options that were given.
fn pairs<const N: usize>(options: [(&'static str, Option<String>); N]) -> Vec<(&'static str, String)> {
    options.into_iter().filter_map(|(key, value)| value.map(|v| (key, v))).collect()
}

pub(super) fn deploy(args: DeployArgs) -> Result<ExitCode, CliError> {
    let (file, project) = super::author::built_component(&args.file)?;
    let name = match (args.name, &project) {
        (Some(name), _) => name,
        (None, Some(project)) if project.spec.kind == crate::authoring::Kind::Function => project.spec.name.clone(),
        (None, Some(_)) => return Err(CliError::input("the project is a bin: upload it with `cloudexec bin upload`")),
        (None, None) => return Err(CliError::input("--name is required when deploying a .wasm file")),
    };
    let wasm = read_file(&file)?;
    let api = Api::new(&args.flags)?;
    let plan = args.plan.and_then(|p| p.to_possible_value()).map(|v| v.get_name().to_string());
    let metadata = pairs([
        ("remark", args.remark),
        ("plan", plan),
        ("sync_timeout_ms", args.sync_timeout_ms.map(|v| v.to_string())),
        ("async_timeout_ms", args.async_timeout_ms.map(|v| v.to_string())),
    ]);
    let mut create = vec![("name", name.clone())];
    create.extend(metadata.iter().cloned());
    let mut answer = api.send("/v1/functions", &create, Send::Post("application/wasm", &wasm))?;
    let mut verb = "created";
    if answer.status == 409 {
        let path = format!("/v1/functions/{}", segment(&name));
        answer = api.send(&path, &metadata, Send::Patch("application/wasm", &wasm))?;
        verb = "updated";
    }
    if matches!(answer.status, 400 | 413) {
        return Err(CliError { code: ExitCode::ModuleRejected, ..api.refused(&answer) });
    }
    let answer = api.expect_ok(answer)?;
    let function: FunctionAnswer = answer.decode()?;
    if api.json {
        println!("{}", answer.body);
    } else {
        println!("{verb} function {}", function.name);
        println!("version: {}", function.version);
        println!("sha256: {}", function.module_sha256);
    }
    Ok(ExitCode::Ok)
}

pub(super) fn call(args: CallArgs) -> Result<ExitCode, CliError> {
    let input = parse_json("--input", &args.input)?;
    let api = Api::new(&args.flags)?;
    let path = format!("/v1/functions/{}/invoke", segment(&args.name));
    let query = if args.is_async { vec![("async", "true".to_string())] } else { Vec::new() };
    let body = input.to_string();
    let answer = api.send(&path, &query, Send::Post("application/json", body.as_bytes()))?;
    let answer = api.expect_ok(answer)?;
    if args.is_async {
        let accepted: Accepted = answer.decode()?;
        if api.json {
            println!("{}", answer.body);
        } else {
            let url = accepted.job_url.unwrap_or_else(|| format!("/v1/jobs/{}", accepted.job_id));
            println!("job: {} ({})", accepted.job_id, accepted.status.as_deref().unwrap_or("waiting"));
            println!("url: {}{url}", api.base);
        }
        return Ok(ExitCode::Ok);
    }
    let job: JobAnswer = answer.decode()?;
    let code = if job.status == "fulfilled" { ExitCode::Ok } else { ExitCode::GuestError };
    if api.json {
        println!("{}", answer.body);
        return Ok(code);
    }
    match (&job.output, job.status.as_str()) {
        (Some(output), "fulfilled") => println!("output: {output}"),
        _ => println!("error: {}", job_error(job.error.as_ref())),
    }
    println!("status: {}", job.status);
    println!("job: {}", job.id);
    match api.send(&format!("/v1/jobs/{}/log", job.id), &[], Send::Get) {
        Ok(log) if log.ok() => print_log(&log.body),
        Ok(log) => println!("log: (not available: HTTP {})", log.status),
        Err(e) => println!("log: (not available: {e})"),
    }
    print_usage(u64::try_from(job.mem_usage).unwrap_or(0), job.duration().unwrap_or_default());
    Ok(code)
}

pub(super) fn jobs(args: JobsArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let query = pairs([
        ("status", args.status),
        ("source", args.source),
        ("service_type", args.service_type),
        ("limit", args.limit.map(|v| v.to_string())),
        ("offset", args.offset.map(|v| v.to_string())),
    ]);
    let (page, answer): (JobPage, _) = api.get(&format!("/v1/functions/{}/jobs", segment(&args.name)), &query)?;
    if api.json {
        println!("{}", answer.body);
    } else {
        print_jobs(&page);
    }
    Ok(ExitCode::Ok)
}

pub(super) fn logs(args: LogsArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let answer = api.send(&format!("/v1/jobs/{}/log", args.job_id), &[], Send::Get)?;
    let answer = api.expect_ok(answer)?;
    if api.json {
        println!("{}", json!({"job_id": args.job_id, "log": answer.body}));
    } else {
        print!("{}", answer.body);
        if !answer.body.is_empty() && !answer.body.ends_with('\n') {
            println!();
        }
    }
    Ok(ExitCode::Ok)
}
