//! `cloudexec serve` and `cloudexec token`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{CliError, ExitCode};
use crate::egress::EgressPolicy;
use crate::flows::running::FlowsConfig;
use crate::http::listener::ConnectionLimits;
use crate::runs::RunnerConfig;
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
    /// The share (0-1) of the slots and of the queue one app may hold unless its own
    /// limits (PUT /v1/apps/{appKey}/limits) say otherwise.
    #[arg(long, default_value_t = RunnerConfig::default().app_share)]
    pub app_share: f64,
    /// Open connections at most; further ones wait in the listen backlog.
    #[arg(long, default_value_t = ConnectionLimits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's head; a keep-alive connection idle this long is closed.
    #[arg(long, default_value_t = ConnectionLimits::default().header_timeout.as_secs())]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body (408 after).
    #[arg(long, default_value_t = ConnectionLimits::default().body_timeout.as_secs())]
    pub body_timeout_secs: u64,
    /// Largest the database may grow, in MiB; past it writes answer 503 `StorageFull`
    /// (as they do when the disk is full). Default: no cap.
    #[arg(long)]
    pub max_db_mib: Option<u64>,
    /// Networks (`10.0.0.0/8`, `127.0.0.1`) or host names that HTTP tasks, URL bindings
    /// and callback URLs may reach besides public addresses; repeat or separate with commas.
    #[arg(long, env = "CLOUDEXEC_EGRESS_ALLOW", value_delimiter = ',')]
    pub egress_allow: Vec<String>,
    /// Tasks of one flow execution running at once (HTTP calls in flight, function tasks
    /// holding or waiting for a slot); a Map's own maxConcurrency applies within it.
    #[arg(long, default_value_t = FlowsConfig::default().max_running_per_execution)]
    pub max_tasks_per_execution: usize,
    /// Outbound HTTP calls of flows (HTTP tasks, callback URLs) in flight at once, all
    /// executions together; more wait their turn. Each holds a socket and about 30 kB.
    #[arg(long, default_value_t = FlowsConfig::default().max_outbound_calls)]
    pub max_outbound_calls: usize,
    /// A PostgreSQL database for several nodes (`postgres://user@host:port/db`) instead of
    /// the SQLite file in the data dir. Async jobs and flow executions are leased per node:
    /// when a node stops, another takes over what it ran.
    #[arg(long = "database", env = "CLOUDEXEC_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// This node's id (default: kept in the data dir's `node-id` file). Async jobs and flow
    /// executions this node claims carry it; give every node on one database its own.
    #[arg(long, env = "CLOUDEXEC_NODE_ID")]
    pub node_id: Option<String>,
    /// Seconds a node's claimed jobs and flow executions stay its own without a heartbeat;
    /// past it another node puts the jobs back to waiting and takes the executions over.
    /// Heartbeats come every tenth of it.
    #[arg(long, default_value_t = RunnerConfig::default().lease.as_secs())]
    pub job_lease_secs: u64,
    /// Seconds a job's signed log link (seed 001's `user_log_url`, fetched without a
    /// token) stays valid.
    #[arg(long, default_value_t = crate::http::compat::seed001::links::DEFAULT_TTL.as_secs())]
    pub log_link_secs: u64,
    /// Components of at least this many MiB (Python and JavaScript guests are tens of MB)
    /// first run code from Winch, the baseline compiler, which compiles about three times
    /// faster than Cranelift; Cranelift's faster code is compiled in the background and
    /// swapped in. 0 compiles everything with Cranelift before its first call.
    #[arg(long, default_value_t = (crate::engine::DEFAULT_BASELINE_TIER_MIN_BYTES >> 20) as u64)]
    pub baseline_tier_min_mib: u64,
}

/// Arguments of `cloudexec token`: alone, it prints the default app's token from the data
/// dir; `list`, `issue` and `revoke` manage an app's tokens on a running server.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TokenArgs {
    /// The server's data dir.
    #[arg(long, default_value = "./data", env = "CLOUDEXEC_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Manage tokens on a running server instead.
    #[command(subcommand)]
    pub command: Option<super::client::tokens::TokenCommand>,
}

pub(super) fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    super::serve_process::prepare(args.max_connections, args.max_outbound_calls);
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
        if !(args.app_share > 0.0 && args.app_share <= 1.0) {
            return Err(CliError {
                message: "--app-share must be above 0 and at most 1".into(),
                code: ExitCode::Usage,
            });
        }
        config.runner.app_share = args.app_share;
        config.runner.lease = Duration::from_secs(args.job_lease_secs.max(1));
        config.node_id = args.node_id;
        config.database_url = args.database_url;
        config.flows.max_running_per_execution = args.max_tasks_per_execution.max(1);
        config.flows.max_outbound_calls = args.max_outbound_calls.max(1);
        config.max_db_bytes = args.max_db_mib.map(|mib| mib.saturating_mul(1 << 20));
        config.egress = EgressPolicy::with_allowed(&args.egress_allow)
            .map_err(|e| CliError { message: format!("--egress-allow: {e}"), code: ExitCode::Usage })?;
        config.connections = ConnectionLimits {
            max_connections: args.max_connections.max(1),
            header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(args.body_timeout_secs.max(1)),
        };
        config.log_link_ttl = Duration::from_secs(args.log_link_secs.max(1));
        config.engine.baseline_tier_min_bytes = (args.baseline_tier_min_mib > 0)
            .then(|| usize::try_from(args.baseline_tier_min_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX));
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
    if let Some(command) = args.command {
        return super::client::tokens::token(command);
    }
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
