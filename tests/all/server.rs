//! A real server for tests: the full stack (SQLite file, engine, dispatcher, router)
//! listening on 127.0.0.1:0, started and stopped in-process.

use std::path::Path;
use std::time::Duration;

use cloudexec::egress::EgressPolicy;
use cloudexec::engine::EngineConfig;
use cloudexec::server::{Server, ServerConfig};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const APP_TOKEN: &str = "test-app-token-0123456789";

pub struct TestServer {
    pub base: String,
    pub client: Client,
    _temp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Default test configuration: fixed tokens, the shared compiled-module cache.
pub fn config(data_dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(data_dir);
    config.admin_token = Some(ADMIN_TOKEN.into());
    config.app_token = Some(APP_TOKEN.into());
    config.engine = EngineConfig {
        cache_dir: Some(cloudexec_tests::repo_root().join("target/test-module-cache")),
        ..config.engine
    };
    // The tests' HTTP task endpoints listen on loopback, which the default policy refuses.
    config.egress = EgressPolicy::with_allowed(&["127.0.0.0/8".into()]).expect("a network");
    if on_postgres() {
        config.database_url = postgres_database(data_dir);
    }
    config
}

/// True in the binary that runs the server suites on PostgreSQL (`on_postgres.rs`).
fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "on_postgres"
}

/// The store the test servers use, as `/healthz` names it.
pub fn store_kind() -> &'static str {
    if on_postgres() && cloudexec_tests::postgres::TestPostgres::shared().ok().flatten().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// The database of the server on `data_dir` in the test process's shared PostgreSQL
/// cluster: a fresh one the first time, the same one when that server starts again
/// (`None`, so SQLite, when no cluster can be started outside CI).
fn postgres_database(data_dir: &Path) -> Option<String> {
    static BY_DIR: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> = std::sync::Mutex::new(Vec::new());
    let cluster = cloudexec_tests::postgres::TestPostgres::shared().expect("a PostgreSQL cluster for the tests")?;
    let mut known = BY_DIR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, url)) = known.iter().find(|(dir, _)| dir == data_dir) {
        return Some(url.clone());
    }
    let url = cluster.fresh_database().expect("a database on the shared cluster");
    known.push((data_dir.to_path_buf(), url.clone()));
    Some(url)
}

impl TestServer {
    /// A server on a fresh data dir.
    pub async fn start() -> anyhow::Result<Self> {
        let temp = tempfile::tempdir()?;
        let mut server = Self::start_with(config(temp.path())).await?;
        server._temp = Some(temp);
        Ok(server)
    }

    /// A server with this configuration (its data dir is kept after stop).
    pub async fn start_with(config: ServerConfig) -> anyhow::Result<Self> {
        let server = Server::open(config).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(listener, async move {
            let _ = stopped.await;
        }));
        let client = Client::builder().timeout(Duration::from_secs(60)).build()?;
        Ok(Self { base, client, _temp: None, stop: Some(stop), task: Some(task) })
    }

    /// Graceful stop: in-flight requests finish, running jobs finish, the store closes.
    pub async fn stop(mut self) -> anyhow::Result<Option<tempfile::TempDir>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(self._temp.take())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with the default app's token.
    pub fn as_app(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(APP_TOKEN)
    }

    /// A request with `token`.
    pub fn with_token(&self, token: &str, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }

    /// Deploys example guest `guest` as function `name` (raw wasm upload) for the default app.
    pub async fn deploy(&self, name: &str, guest: &str) -> anyhow::Result<Response> {
        self.deploy_as(APP_TOKEN, name, guest).await
    }

    /// Deploys with another app's token.
    pub async fn deploy_as(&self, token: &str, name: &str, guest: &str) -> anyhow::Result<Response> {
        let wasm = cloudexec_tests::guest_bytes(guest)?;
        Ok(self
            .with_token(token, reqwest::Method::POST, &format!("/v1/functions?name={name}"))
            .header("content-type", "application/wasm")
            .body(wasm)
            .send()
            .await?)
    }

    /// Uploads example guest `guest` as a bin of the default app (raw wasm); its binId.
    pub async fn upload_bin(&self, guest: &str) -> anyhow::Result<String> {
        let wasm = cloudexec_tests::guest_bytes(guest)?;
        let response = self
            .as_app(reqwest::Method::POST, "/v1/bins")
            .header("content-type", "application/wasm")
            .body(wasm)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 201, "the upload of {guest} answered {}", response.status());
        let body: Value = response.json().await?;
        Ok(body["binId"].as_str().ok_or_else(|| anyhow::anyhow!("no binId in {body}"))?.to_string())
    }

    /// Creates an instance of bin `bin_id` for the default app; the answer's body.
    pub async fn new_instance(&self, bin_id: &str) -> anyhow::Result<Value> {
        Ok(self
            .as_app(reqwest::Method::POST, "/v1/instances")
            .json(&serde_json::json!({"binId": bin_id}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Creates another app with the admin token; returns its key and token.
    pub async fn new_app(&self, name: &str) -> anyhow::Result<(i64, String)> {
        let body: Value = self
            .with_token(ADMIN_TOKEN, reqwest::Method::POST, "/v1/apps")
            .json(&serde_json::json!({"name": name}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let key = body["appKey"].as_i64().ok_or_else(|| anyhow::anyhow!("no appKey in {body}"))?;
        let token = body["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token in {body}"))?.to_string();
        Ok((key, token))
    }

    /// Polls a job until it reaches a terminal status.
    pub async fn wait_for_job(&self, id: i64) -> anyhow::Result<Value> {
        for _ in 0..400 {
            let job: Value = self.as_app(reqwest::Method::GET, &format!("/v1/jobs/{id}")).send().await?.json().await?;
            if !matches!(job["status"].as_str(), Some("waiting" | "executing")) {
                return Ok(job);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("job {id} did not finish")
    }
}
