//! Two nodes on one PostgreSQL database hear each other's changes (LISTEN/NOTIFY): a
//! function updated or deleted, a flow's new version, a revoked token and an app's limits
//! changed through node A reach node B's caches, and a job queued on a saturated node A
//! wakes an idle node B, whose own poll is an hour apart (so only the notice can explain
//! that it starts the job).

use std::future::Future;
use std::time::Duration;

use cloudexec_tests::postgres::TestPostgres;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::create_flow;
use crate::server::{ADMIN_TOKEN, TestServer, config};

/// A node on `url` whose dispatcher polls once an hour when nothing wakes it.
fn node(dir: &tempfile::TempDir, url: &str, id: &str) -> cloudexec::server::ServerConfig {
    let mut cfg = config(dir.path());
    cfg.database_url = Some(url.to_string());
    cfg.node_id = Some(id.into());
    cfg.runner.idle_poll = Duration::from_secs(3600);
    cfg
}

/// Polls `check` every 20 ms until it holds, for at most 10 s.
async fn eventually<F: Future<Output = anyhow::Result<bool>>>(what: &str, check: impl Fn() -> F) -> anyhow::Result<()> {
    for _ in 0..500 {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("{what} never happened")
}

async fn invoke(server: &TestServer, token: &str, input: Value) -> anyhow::Result<(u16, Value)> {
    let answer = server.with_token(token, Method::POST, "/v1/functions/f/invoke").json(&input).send().await?;
    Ok((answer.status().as_u16(), answer.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_through_one_node_reach_the_other_node_s_caches() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("notices")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = TestServer::start_with(node(&dir_a, &url, "node-a")).await?;
    let b = TestServer::start_with(node(&dir_b, &url, "node-b")).await?;

    // A token issued on A, used on B (B caches it), revoked on A: B refuses it.
    let issued: Value = a.with_token(ADMIN_TOKEN, Method::POST, "/v1/apps/1/tokens").send().await?.json().await?;
    let token = issued["token"].as_str().unwrap_or_default().to_string();
    a.deploy("f", "hello").await?.error_for_status()?;
    let (status, hello) = invoke(&b, &token, json!({"name": "Ada"})).await?;
    assert_eq!((status, &hello["output"]), (200, &json!({"greeting": "Hello, Ada!"})), "{hello}");

    // The function's code changes on A: B runs the new code, then the deletion reaches B.
    let wasm = cloudexec_tests::guest_bytes("hostile")?;
    let patched = a.as_app(Method::PATCH, "/v1/functions/f").header("content-type", "application/wasm").body(wasm);
    assert_eq!(patched.send().await?.status(), 200);
    eventually("node B running the new code", || async {
        let (_, answer) = invoke(&b, &token, json!({"action": "echo", "n": 1})).await?;
        Ok(answer["output"] == json!({"action": "echo", "n": 1}))
    })
    .await?;
    assert_eq!(a.as_app(Method::DELETE, "/v1/functions/f").send().await?.status(), 204);
    eventually("node B forgetting the deleted function", || async {
        Ok(invoke(&b, &token, json!({})).await?.0 == 404)
    })
    .await?;

    let revoked = a.with_token(ADMIN_TOKEN, Method::DELETE, &format!("/v1/apps/1/tokens/{}", issued["id"]));
    assert!(revoked.send().await?.status().is_success());
    eventually("node B refusing the revoked token", || async { Ok(invoke(&b, &token, json!({})).await?.0 == 401) })
        .await?;

    // A flow's new version, added on A, is the one B starts.
    let flow = |v: i64| {
        format!(
            "Type: StateMachine\nSpecVersion: v1\nName: v\nStartAt: S\nStates:\n  - {{Name: S, Type: Pass, Result: {{v: {v}}}, End: true}}\n"
        )
    };
    create_flow(&a, "v", &flow(1)).await?;
    let start = || async {
        let path = "/v1/flows/v/executions?sync=true&timeout_ms=10000";
        let view: Value = b.as_app(Method::POST, path).json(&json!({"input": {}})).send().await?.json().await?;
        anyhow::Ok(view)
    };
    assert_eq!(start().await?["output"], json!({"v": 1}));
    let updated = a.as_app(Method::PUT, "/v1/flows/v").header("content-type", "text/yaml").body(flow(2));
    assert!(updated.send().await?.status().is_success());
    eventually("node B starting the new version", || async { Ok(start().await?["output"] == json!({"v": 2})) }).await?;

    // An app's limits set on A are in force on B.
    let limits = json!({"max_running": 3, "max_queue": null, "rate_per_sec": null, "burst": null});
    let put = a.with_token(ADMIN_TOKEN, Method::PUT, "/v1/apps/1/limits").json(&limits);
    assert_eq!(put.send().await?.status(), 200);
    eventually("node B using the new limits", || async {
        let seen: Value = b.with_token(ADMIN_TOKEN, Method::GET, "/v1/apps/1/limits").send().await?.json().await?;
        Ok(seen["limits"]["max_running"] == 3)
    })
    .await?;
    b.stop().await?;
    a.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_queued_on_a_saturated_node_is_started_at_once_by_an_idle_one() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("wake")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let mut cfg_a = node(&dir_a, &url, "node-a");
    cfg_a.runner.max_concurrency = 1;
    let a = TestServer::start_with(cfg_a).await?;
    a.deploy("spin", "hostile").await?.error_for_status()?;
    let patched = a.as_app(Method::PATCH, "/v1/functions/spin").json(&json!({"async_timeout_ms": 15000}));
    assert_eq!(patched.send().await?.status(), 200);
    // Node A's one slot spins (until its 15 s deadline) before node B exists.
    let queue = |server: &TestServer, input: Value| {
        let request = server.as_app(Method::POST, "/v1/functions/spin/invoke?async=true").json(&input);
        async move { anyhow::Ok(request.send().await?.json::<Value>().await?["job_id"].as_i64().unwrap_or_default()) }
    };
    let spinning = queue(&a, json!({"action": "loop"})).await?;
    eventually("node A spinning", || async {
        let job: Value = a.as_app(Method::GET, &format!("/v1/jobs/{spinning}")).send().await?.json().await?;
        Ok(job["status"] == "executing")
    })
    .await?;
    let b = TestServer::start_with(node(&dir_b, &url, "node-b")).await?;
    // Node B's dispatcher has looked once at start and now sleeps for an hour; the pause
    // only makes sure it is asleep (without the notice this test then fails; with it, the
    // pause changes nothing).
    tokio::time::sleep(Duration::from_secs(1)).await;

    let queued = queue(&a, json!({"action": "echo", "n": 7})).await?;
    let done = b.wait_for_job(queued).await?;
    assert_eq!((done["status"].as_str(), done["node"].as_str()), (Some("fulfilled"), Some("node-b")), "{done}");
    let spun: Value = a.as_app(Method::GET, &format!("/v1/jobs/{spinning}")).send().await?.json().await?;
    assert_eq!(spun["status"], "executing", "node A was still busy: only the notice woke node B");
    b.stop().await?;
    a.stop().await?;
    Ok(())
}
