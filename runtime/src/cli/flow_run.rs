//! `cloudexec flow run`: runs a flow without a server. It opens the same stack `serve`
//! runs (store, engine, scheduler) on a temporary data dir, listens on 127.0.0.1 only so
//! async HTTP tasks can call back, deploys each `--bind name=file.wasm` as function
//! `name` (reachable as `function://name`), runs the flow once and prints every task's
//! status and the output.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::client::flows::{exit_of, print_execution};
use super::{CliError, ExitCode, parse_json, read_file};
use crate::egress::EgressPolicy;
use crate::engine::EngineConfig;
use crate::flows::service::{NewFlow, StartExecution, parse_definition};
use crate::functions::CreateFunction;
use crate::http::flow_views::ExecutionView;
use crate::server::{Server, ServerConfig};

/// Arguments of `cloudexec flow run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The definition (DAG YAML, state-machine spec or FDL).
    pub file: PathBuf,
    /// The input object.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// A function task's wasm: `--bind flow-start-node=target/.../flow_start_node.wasm` (repeatable).
    #[arg(long = "bind", value_name = "NAME=FILE")]
    pub binds: Vec<String>,
    /// Longest the run may take.
    #[arg(long, default_value_t = 60_000)]
    pub timeout_ms: u64,
    /// Compiled-module cache (default: none kept).
    #[arg(long, env = "CLOUDEXEC_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Print the execution as JSON.
    #[arg(long)]
    pub json: bool,
}

fn internal(e: impl std::fmt::Display) -> CliError {
    CliError { message: e.to_string(), code: ExitCode::Internal }
}

pub(super) fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    let text = String::from_utf8(read_file(&args.file)?).map_err(|_| CliError::input("the flow file is not UTF-8"))?;
    parse_definition(&text).map_err(|e| CliError::input(e.to_string()))?;
    let input = parse_json("--input", &args.input)?;
    let mut functions = Vec::new();
    for bind in &args.binds {
        let (name, file) =
            bind.split_once('=').ok_or_else(|| CliError::input(format!("--bind {bind:?}: use NAME=FILE")))?;
        functions.push((name.to_string(), read_file(std::path::Path::new(file))?));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(internal)?;
    runtime.block_on(run_locally(args, text, input, functions))
}

async fn run_locally(
    args: RunArgs,
    text: String,
    input: Value,
    functions: Vec<(String, Vec<u8>)>,
) -> Result<ExitCode, CliError> {
    let dir = tempfile::tempdir().map_err(internal)?;
    let mut config = ServerConfig::new(dir.path());
    config.engine = EngineConfig { cache_dir: args.cache_dir.clone(), ..EngineConfig::default() };
    // The author's own machine, no tenants: tasks may call anything, loopback included.
    config.egress = EgressPolicy::open();
    let server = Server::open(config).await.map_err(internal)?;
    let state = server.state().clone();
    let app = server.bootstrap.app_key;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(internal)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    let result = async {
        for (name, wasm) in functions {
            let create = CreateFunction { name: name.clone(), wasm, ..CreateFunction::default() };
            state
                .functions
                .create(app, create)
                .await
                .map_err(|e| CliError { message: format!("--bind {name}: {e}"), code: ExitCode::ModuleRejected })?;
        }
        let flow = NewFlow { name: Some("local".into()), definition: text, description: String::new() };
        state.flows.create(app, flow).await.map_err(|e| CliError::input(e.to_string()))?;
        let wait = Duration::from_millis(args.timeout_ms.max(1));
        let req = StartExecution { input, ..StartExecution::default() };
        let detail = state.flows.run_sync(app, "local", req, wait).await.map_err(|e| CliError::input(e.to_string()))?;
        serde_json::to_value(ExecutionView::from(&detail)).map_err(internal)
    }
    .await;
    let _ = stop.send(());
    let _ = serving.await;
    let view = result?;
    match args.json {
        true => println!("{view}"),
        false => print_execution(&view),
    }
    Ok(exit_of(&view))
}
