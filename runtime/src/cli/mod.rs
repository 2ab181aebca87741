//! The `cloudexec` command line: run functions and bins locally on the same engine the
//! server uses. Exit codes are stable so scripts can branch on them (see [`ExitCode`]).

mod author;
mod client;
mod flow_run;
mod invoke;
mod report;
mod run_bin;
mod serve;
mod serve_process;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::{Engine, EngineConfig, EngineError, Limits, Plan};

/// Exit codes of the `cloudexec` binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// The guest ran and succeeded.
    Ok = 0,
    /// The guest ran and returned its own error.
    GuestError = 1,
    /// The command line was wrong (clap's usage errors also exit 2).
    Usage = 2,
    /// The module was rejected: invalid, not a component, wrong world, too large.
    ModuleRejected = 3,
    /// The guest passed its deadline.
    Deadline = 4,
    /// The guest passed its memory cap.
    Memory = 5,
    /// The guest trapped.
    Trap = 6,
    /// A file could not be read or an argument could not be parsed.
    Input = 7,
    /// A failure of cloudexec itself.
    Internal = 8,
    /// The engine had no free instance slot, or the server answered 429; retrying later may succeed.
    Busy = 9,
    /// The server has no such function or job (a 404 `...NotExists` answer).
    NotFound = 10,
}

impl ExitCode {
    /// The exit code for an engine error.
    pub fn of(error: &EngineError) -> Self {
        match error {
            e if e.is_load_error() => Self::ModuleRejected,
            EngineError::Guest { .. } => Self::GuestError,
            EngineError::DeadlineExceeded { .. } => Self::Deadline,
            EngineError::MemoryLimitExceeded { .. } => Self::Memory,
            EngineError::Trap { .. } => Self::Trap,
            EngineError::InvalidInput(_) => Self::Input,
            EngineError::Busy(_) => Self::Busy,
            _ => Self::Internal,
        }
    }
}

/// A failure of a CLI command, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// What to tell the user.
    pub message: String,
    /// The process exit code.
    pub code: ExitCode,
}

impl CliError {
    fn input(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: ExitCode::Input }
    }
}

impl From<EngineError> for CliError {
    fn from(error: EngineError) -> Self {
        Self { code: ExitCode::of(&error), message: error.to_string() }
    }
}

/// cloudexec: run WebAssembly functions and bins.
#[derive(Debug, Parser)]
#[command(name = "cloudexec", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new function or bin project (Rust or Python) that builds and tests as it is.
    New(author::NewArgs),
    /// Build the project in a directory (default: here) into a component.
    Build(author::ProjectArgs),
    /// Build the project and run the cases its cloudexec.toml lists, on the server's engine.
    Test(author::ProjectArgs),
    /// Invoke a function component once and print its output, log, peak memory and time.
    Invoke(invoke::InvokeArgs),
    /// Run a bin component: each --vars is one run on the same instance.
    RunBin(run_bin::RunBinArgs),
    /// Start the HTTP server with its embedded database.
    Serve(serve::ServeArgs),
    /// Print the default app's token from a server's data dir; `token list|issue|revoke`
    /// manage an app's tokens on a running server (with the admin token).
    Token(serve::TokenArgs),
    /// Upload a function to a running server (create it, or give an existing one new code).
    Deploy(client::DeployArgs),
    /// Invoke a function on a running server: wait for the result, or --async for a job id.
    Call(client::CallArgs),
    /// List a function's jobs on a running server.
    Jobs(client::JobsArgs),
    /// Print the log a job captured on a running server.
    Logs(client::LogsArgs),
    /// Bins on a running server: `bin upload FILE.wasm`.
    #[command(subcommand)]
    Bin(client::bins::BinCommand),
    /// Bind a function key bins call to a cloud function (--function) or URL (--url) on a running server.
    Bind(client::bins::BindArgs),
    /// Execution instances of bins on a running server: create, run, get, path, destroy.
    #[command(subcommand)]
    Instance(client::bins::InstanceCommand),
    /// The app's engine layer (seed 000, section 4): where variable updates are delivered.
    #[command(subcommand)]
    EngineLayer(client::engine_layer::EngineLayerCommand),
    /// Publish, revoke and run services (seed 000 static and dynamic flows) on a server.
    #[command(subcommand)]
    Service(client::services::ServiceCommand),
    /// Flows: deploy, start, get, history against a server; `flow run` runs one locally.
    #[command(subcommand)]
    Flow(client::flows::FlowCommand),
}

/// Memory plans as the CLI names them.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanArg {
    /// 128 MiB.
    #[value(name = "P_FREE")]
    Free,
    /// 256 MiB.
    #[value(name = "P_PERSONAL")]
    Personal,
}

/// Options every run takes.
#[derive(Debug, Clone, Args)]
pub struct RunFlags {
    /// Memory plan.
    #[arg(long, value_enum, default_value = "P_FREE")]
    pub plan: PlanArg,
    /// Deadline in milliseconds (default: 5000, the sync deadline).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Directory for compiled modules, so a second run does not recompile.
    #[arg(long, env = "CLOUDEXEC_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

impl RunFlags {
    fn limits(&self) -> Limits {
        let plan = match self.plan {
            PlanArg::Free => Plan::Free,
            PlanArg::Personal => Plan::Personal,
        };
        let limits = Limits::sync(plan);
        self.timeout_ms.map_or(limits, |ms| limits.with_timeout(Duration::from_millis(ms)))
    }

    fn engine(&self) -> Result<Engine, CliError> {
        Ok(Engine::new(EngineConfig { cache_dir: self.cache_dir.clone(), ..EngineConfig::default() })?)
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))
}

fn parse_json(what: &str, text: &str) -> Result<serde_json::Value, CliError> {
    serde_json::from_str(text).map_err(|e| CliError::input(format!("{what} is not valid JSON: {e}")))
}

/// Runs a parsed command line; returns the exit code to use.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::New(args) => author::create(args),
        Command::Build(args) => author::build_project(args),
        Command::Test(args) => author::test(args),
        Command::Invoke(args) => invoke::run(args),
        Command::RunBin(args) => run_bin::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Token(args) => serve::token(args),
        Command::Deploy(args) => client::deploy(args),
        Command::Call(args) => client::call(args),
        Command::Jobs(args) => client::jobs(args),
        Command::Logs(args) => client::logs(args),
        Command::Bin(command) => client::bins::bin(command),
        Command::Bind(args) => client::bins::bind(args),
        Command::Instance(command) => client::bins::instance(command),
        Command::EngineLayer(command) => client::engine_layer::engine_layer(command),
        Command::Service(command) => client::services::service(command),
        Command::Flow(command) => client::flows::flow(command),
    }
}
