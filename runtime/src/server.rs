//! `cloudexec serve`: the store in the data dir, the engine with its artifact cache
//! there too, first-start bootstrap of the admin token and the default app, the job
//! dispatcher, and the HTTP listener with graceful shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::apps::{Apps, check_chosen_token, new_token};
use crate::bins::Bins;
use crate::egress::EgressPolicy;
use crate::engine::{Engine, EngineConfig};
use crate::error::ServiceError;
use crate::flows::running::FlowsConfig;
use crate::flows::service::Flows;
use crate::flows::task_tokens::TaskTokens;
use crate::functions::Functions;
use crate::http::compat::seed001::links::{self, LogLinks};
use crate::http::listener::{self, ConnectionLimits};
use crate::http::{AppState, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_UPLOAD_BYTES, Services, router};
use crate::notices::Followers;
use crate::runs::{JobRunner, RunnerConfig};
use crate::store::postgres::PgStore;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::{Store, TokenGrant};

/// File in the data dir holding the admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
/// File in the data dir holding the default app's token.
pub const APP_TOKEN_FILE: &str = "token";
/// The file in the data dir that keeps this node's id.
pub const NODE_ID_FILE: &str = "node-id";
/// The database file in the data dir.
pub const DATABASE_FILE: &str = "cloudexec.db";
/// Compiled-module cache in the data dir.
pub const MODULE_CACHE_DIR: &str = "module-cache";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data dir or a token file could not be used.
    #[error("{0}")]
    Io(String),
    /// The store, engine or bootstrap failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the database, tokens and compiled modules live.
    pub data_dir: PathBuf,
    /// Admin token to use instead of a generated one.
    pub admin_token: Option<String>,
    /// Default app token to use instead of a generated one.
    pub app_token: Option<String>,
    /// Concurrency, queue and waiting-job limits.
    pub runner: RunnerConfig,
    /// Request body cap.
    pub max_body_bytes: usize,
    /// Body cap of the routes that upload code (functions, bins): a module up to the
    /// engine's cap, base64 in JSON, fits.
    pub max_upload_bytes: usize,
    /// Connection cap and header/body read deadlines.
    pub connections: ConnectionLimits,
    /// Largest the database may grow; past it writes answer 503 `StorageFull`.
    pub max_db_bytes: Option<u64>,
    /// Which addresses outbound calls (HTTP tasks, URL bindings, callback URLs) may reach.
    pub egress: EgressPolicy,
    /// Engine settings; without a cache dir, compiled modules go to the data dir.
    pub engine: EngineConfig,
    /// Flow limits; the callback base URL defaults to the listening address.
    pub flows: FlowsConfig,
    /// The URL clients and task workers reach this server at (default: `http://<listen address>`).
    pub public_url: Option<String>,
    /// This node's id, which the jobs it claims carry (default: the one kept in the data
    /// dir's `node-id` file, made at the first start).
    pub node_id: Option<String>,
    /// A PostgreSQL database (`postgres://user@host:port/db`) instead of the SQLite file in
    /// the data dir; the data dir then keeps only compiled modules, tokens and the node id.
    pub database_url: Option<String>,
    /// How long seed 001's signed log links (`user_log_url`) stay valid.
    pub log_link_ttl: std::time::Duration,
}

impl ServerConfig {
    /// Defaults for a data dir.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            admin_token: None,
            app_token: None,
            runner: RunnerConfig::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            connections: ConnectionLimits::default(),
            max_db_bytes: None,
            egress: EgressPolicy::default(),
            // The server keeps running after a large upload, so tiered compilation pays.
            engine: EngineConfig {
                baseline_tier_min_bytes: Some(crate::engine::DEFAULT_BASELINE_TIER_MIN_BYTES),
                ..EngineConfig::default()
            },
            flows: FlowsConfig::default(),
            public_url: None,
            node_id: None,
            database_url: None,
            log_link_ttl: links::DEFAULT_TTL,
        }
    }
}

/// The tokens the server starts with, to print for the user.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The admin token.
    pub admin_token: String,
    /// The default app's key.
    pub app_key: i64,
    /// The default app's token.
    pub app_token: String,
}

/// A started server, not yet listening.
#[derive(Debug)]
pub struct Server {
    state: AppState,
    /// The SQLite store, closed (its writer drained) when serving ends; none on PostgreSQL.
    sqlite: Option<Arc<SqliteStore>>,
    /// Tokens of the admin and the default app.
    pub bootstrap: Bootstrap,
    public_url: Option<String>,
    connections: ConnectionLimits,
}

/// The store `config` names: PostgreSQL at its database URL, else the SQLite file in the
/// data dir (returned apart too, to be closed at the end).
async fn open_store(config: &ServerConfig) -> Result<(Arc<dyn Store>, Option<Arc<SqliteStore>>), ServerError> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PgStore::connect(url).await.map_err(ServiceError::from)?;
            Ok((Arc::new(store), None))
        }
        Some(other) => Err(ServerError::Service(ServiceError::InvalidArgument(format!(
            "unsupported database URL {:?}: use postgres://user@host:port/db, or no URL for SQLite in the data dir",
            other.split('@').next_back().unwrap_or_default()
        )))),
        None => {
            let options = SqliteOptions { max_bytes: config.max_db_bytes };
            let path = config.data_dir.join(DATABASE_FILE);
            let store = Arc::new(SqliteStore::open_with(&path, options).map_err(ServiceError::from)?);
            Ok((store.clone(), Some(store)))
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Io(format!("cannot {what} {}: {e}", path.display()))
}

impl Server {
    /// Opens the store, migrates it, bootstraps tokens and starts the job dispatcher.
    pub async fn open(config: ServerConfig) -> Result<Self, ServerError> {
        let dir = &config.data_dir;
        create_private(dir, config.database_url.is_none())?;
        let (dyn_store, sqlite) = open_store(&config).await?;
        let cache_dir = config.engine.cache_dir.clone().unwrap_or_else(|| dir.join(MODULE_CACHE_DIR));
        let engine_config = EngineConfig { cache_dir: Some(cache_dir), ..config.engine.clone() };
        let engine = Engine::new(engine_config).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let apps = Apps::new(dyn_store.clone());
        let node = node_id(dir, config.node_id.as_deref())?;
        let bootstrap = bootstrap(&apps, dyn_store.as_ref(), &config, &node).await?;
        let functions = Functions::new(dyn_store.clone(), engine.clone());
        let jobs = JobRunner::new(dyn_store.clone(), engine.clone(), functions.clone(), config.runner, node);
        jobs.start().await?;
        let bins = Bins::new(dyn_store.clone(), engine, functions.clone(), jobs.executor(), &config.egress);
        bins.start_deliveries();
        let tokens = TaskTokens::load(dyn_store.as_ref()).await?;
        let log_links = LogLinks::load(dyn_store.as_ref(), config.log_link_ttl).await?;
        let flows = Flows::new(dyn_store.clone(), jobs.clone(), config.flows.clone(), &config.egress, tokens);
        let followers =
            Followers { apps: apps.clone(), functions: functions.clone(), flows: flows.clone(), jobs: jobs.clone() };
        followers.follow(dyn_store.as_ref());
        let state = AppState::new(Services {
            apps,
            functions,
            jobs,
            bins,
            flows,
            max_body_bytes: config.max_body_bytes,
            max_upload_bytes: config.max_upload_bytes,
            body_timeout: config.connections.body_timeout,
            log_links,
        });
        Ok(Self { state, sqlite, bootstrap, public_url: config.public_url, connections: config.connections })
    }

    /// The services behind the API (for in-process callers such as `cloudexec flow run`).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The API router.
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves until `shutdown` resolves; then lets in-flight requests finish, waits for
    /// running async jobs (waiting ones stay queued in the store) and closes the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let base = match (&self.public_url, listener.local_addr()) {
            (Some(url), _) => url.clone(),
            (None, Ok(addr)) => format!("http://{addr}"),
            (None, Err(e)) => return Err(e),
        };
        self.state.flows.set_callback_base(base);
        match self.state.flows.resume().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(executions = n, "resumed unfinished flow executions"),
            Err(error) => tracing::error!(%error, "resuming flow executions failed"),
        }
        let served = listener::serve(listener, self.router(), self.connections, shutdown).await;
        self.state.flows.shutdown().await;
        self.state.jobs.shutdown().await;
        if let Some(store) = self.sqlite.clone() {
            let _ = tokio::task::spawn_blocking(move || store.close()).await;
        }
        served
    }

    /// Binds `addr` and serves until SIGINT or SIGTERM.
    pub async fn run(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "listening");
        self.serve(listener, shutdown_signal()).await
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests and running jobs");
}

/// First start: an admin token and a default app with a token, written into the data
/// dir. Later starts: the files are read back. Tokens given in the config replace the
/// files' and become this node's start tokens: its previous start's are refused from then
/// on (other nodes on the same database keep theirs).
async fn bootstrap(
    apps: &Apps,
    store: &dyn Store,
    config: &ServerConfig,
    node: &str,
) -> Result<Bootstrap, ServerError> {
    for given in [&config.admin_token, &config.app_token].into_iter().flatten() {
        check_chosen_token(given)?;
    }
    let dir = &config.data_dir;
    let admin_token = start_token(dir, ADMIN_TOKEN_FILE, config.admin_token.as_deref())?;
    let app_token = start_token(dir, APP_TOKEN_FILE, config.app_token.as_deref())?;
    if admin_token == app_token {
        return Err(ServiceError::InvalidArgument("the admin token and the app token must differ".into()).into());
    }
    apps.register_start_token(&admin_token, TokenGrant::Admin, node).await?;
    let app = store.first_app("default").await.map_err(ServiceError::from)?;
    apps.register_start_token(&app_token, TokenGrant::App(app.app_key), node).await?;
    for (name, token) in [(ADMIN_TOKEN_FILE, &admin_token), (APP_TOKEN_FILE, &app_token)] {
        let path = dir.join(name);
        write_private(&path, token).map_err(|e| io_error("write", &path, e))?;
    }
    Ok(Bootstrap { admin_token, app_key: app.app_key, app_token })
}

/// This node's id: the one given, the one in `dir/node-id`, or a new one kept there, so
/// a restarted node knows the jobs it left executing as its own.
fn node_id(dir: &Path, given: Option<&str>) -> Result<String, ServerError> {
    if let Some(id) = given {
        return Ok(id.to_string());
    }
    let path = dir.join(NODE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("read", &path, e)),
    }
    let id = format!("node-{}", hex::encode(crate::ids::random::<8>("a node id")?));
    write_private(&path, &id).map_err(|e| io_error("write", &path, e))?;
    Ok(id)
}

/// The token of this start: the one given, the one in `dir/name`, or a new one.
fn start_token(dir: &Path, name: &str, given: Option<&str>) -> Result<String, ServerError> {
    if let Some(token) = given {
        return Ok(token.to_string());
    }
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_string()),
        Ok(_) => Ok(new_token()?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(new_token()?),
        Err(e) => Err(io_error("read", &path, e)),
    }
}

/// Creates the data dir (0700) and, with `sqlite`, the database file (0600) private to
/// this user: the database holds every app's inputs, outputs and logs. SQLite gives its
/// `-wal` and `-shm` files the database file's mode.
fn create_private(dir: &Path, sqlite: bool) -> Result<(), ServerError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_error("protect", dir, e))?;
        if !sqlite {
            return Ok(());
        }
        let db = dir.join(DATABASE_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&db)
            .map_err(|e| io_error("create", &db, e))?;
        for file in [DATABASE_FILE.to_string(), format!("{DATABASE_FILE}-wal"), format!("{DATABASE_FILE}-shm")] {
            let path = dir.join(file);
            if path.exists() {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| io_error("protect", &path, e))?;
            }
        }
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
