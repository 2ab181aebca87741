//! `cloudexec service publish|revoke|run|instance`: services (seed 000, 3.6–3.10) on a
//! running `cloudexec serve`, over `/v1/services`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::ClientFlags;
use super::api::{Api, Send, segment};
use super::bins::post_run;
use crate::cli::{CliError, ExitCode, parse_json};

/// `cloudexec service ...`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Publish a bin under an alias, as a static or dynamic flow.
    Publish(PublishArgs),
    /// Revoke a service: its instances stop running.
    Revoke(AliasArgs),
    /// Run a static flow once (a fresh instance, kept for inspection); prints the run.
    Run(RunArgs),
    /// Create an instance of a dynamic flow; run it with `cloudexec instance run`.
    Instance(AliasArgs),
}

/// The two kinds of service.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Flow {
    /// Category 0: each run is a fresh instance.
    Static,
    /// Category 1: create an instance, then run it many times.
    Dynamic,
}

/// Arguments of `cloudexec service publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Alias, unique in the app: letters, digits, `_`, `-`.
    pub alias: String,
    /// The bin to publish.
    pub bin_id: String,
    /// Static or dynamic flow.
    #[arg(long, value_enum)]
    pub flow: Flow,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// A service alias.
#[derive(Debug, Args)]
pub struct AliasArgs {
    /// The service's alias.
    pub alias: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

/// Arguments of `cloudexec service run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The static flow's alias.
    pub alias: String,
    /// The run's variable updates (`{"key": value}` or seed 000's `{"varList": [...]}`).
    #[arg(long, default_value = "{}")]
    pub vars: String,
    /// Server, token, output.
    #[command(flatten)]
    pub flags: ClientFlags,
}

pub(in crate::cli) fn service(command: ServiceCommand) -> Result<ExitCode, CliError> {
    match command {
        ServiceCommand::Publish(args) => publish(args),
        ServiceCommand::Revoke(args) => revoke(args),
        ServiceCommand::Run(args) => run(args),
        ServiceCommand::Instance(args) => instance(args),
    }
}

fn publish(args: PublishArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let category = match args.flow {
        Flow::Static => 0,
        Flow::Dynamic => 1,
    };
    let body = json!({"alias": args.alias, "category": category, "binId": args.bin_id}).to_string();
    let answer = api.expect_ok(api.send("/v1/services", &[], Send::Post("application/json", body.as_bytes()))?)?;
    match api.json {
        true => println!("{}", answer.body),
        false => println!("published {} ({:?} flow of bin {})", args.alias, args.flow, args.bin_id),
    }
    Ok(ExitCode::Ok)
}

fn revoke(args: AliasArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    api.expect_ok(api.send(&format!("/v1/services/{}", segment(&args.alias)), &[], Send::Delete)?)?;
    println!("revoked {}", args.alias);
    Ok(ExitCode::Ok)
}

fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    let param = parse_json("--vars", &args.vars)?;
    let api = Api::new(&args.flags)?;
    post_run(&api, &format!("/v1/services/{}/run", segment(&args.alias)), &json!({"param": param}).to_string())
}

fn instance(args: AliasArgs) -> Result<ExitCode, CliError> {
    let api = Api::new(&args.flags)?;
    let path = format!("/v1/services/{}/instances", segment(&args.alias));
    let answer = api.expect_ok(api.send(&path, &[], Send::Post("application/json", b"{}"))?)?;
    if api.json {
        println!("{}", answer.body);
    } else {
        let created: serde_json::Value = answer.decode()?;
        println!("instance: {}", created["executeInstanceId"].as_str().unwrap_or_default());
    }
    Ok(ExitCode::Ok)
}
