//! `cloudexec serve` and `cloudexec token`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, ExitCode};
use crate::functions::RunnerConfig;
use crate::server::{APP_TOKEN_FILE, Server, ServerConfig};

/// Arguments of `cloudexec serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "CLOUDEXEC_LISTEN")]
    pub listen: SocketAddr,
    /// Where the database, tokens and compiled modules live.
    #[arg(long, default_value = "./data", env = "CLOUDEXEC_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Use this admin token instead of a generated one.
    #[arg(long, env = "CLOUDEXEC_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Use this token for the default app instead of a generated one.
    #[arg(long, env = "CLOUDEXEC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Guests running at once.
    #[arg(long, default_value_t = RunnerConfig::default().max_concurrency)]
    pub max_concurrency: usize,
    /// Sync invocations waiting for a slot before new ones get 429.
    #[arg(long, default_value_t = RunnerConfig::default().max_queue)]
    pub max_queue: usize,
}

/// Arguments of `cloudexec token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The server's data dir.
    #[arg(long, default_value = "./data", env = "CLOUDEXEC_DATA_DIR")]
    pub data_dir: PathBuf,
}

pub(super) fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError { message: format!("cannot start the async runtime: {e}"), code: ExitCode::Internal })?;
    runtime.block_on(async move {
        let mut config = ServerConfig::new(&args.data_dir);
        config.admin_token = args.admin_token;
        config.app_token = args.token;
        config.runner.max_concurrency = args.max_concurrency;
        config.runner.max_queue = args.max_queue;
        let internal = |e: &dyn std::fmt::Display| CliError { message: e.to_string(), code: ExitCode::Internal };
        let server = Server::open(config).await.map_err(|e| internal(&e))?;
        let b = &server.bootstrap;
        println!("cloudexec listening on http://{}", args.listen);
        println!("data dir: {}", args.data_dir.display());
        println!("admin token: {}", b.admin_token);
        println!("app {} token: {}", b.app_key, b.app_token);
        println!("try: curl -H 'Authorization: Bearer {}' http://{}/v1/functions", b.app_token, args.listen);
        server.run(args.listen).await.map_err(|e| internal(&e))?;
        Ok(ExitCode::Ok)
    })
}

pub(super) fn token(args: TokenArgs) -> Result<ExitCode, CliError> {
    let path = args.data_dir.join(APP_TOKEN_FILE);
    let token = std::fs::read_to_string(&path).map_err(|e| CliError {
        message: format!(
            "cannot read {}: {e} (has `cloudexec serve --data-dir {}` run?)",
            path.display(),
            args.data_dir.display()
        ),
        code: ExitCode::Input,
    })?;
    println!("{}", token.trim());
    Ok(ExitCode::Ok)
}
