//! Durability: async jobs accepted before a stop run after the restart; functions and
//! job history survive.

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TestServer, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_async_jobs_run_after_a_restart_and_history_survives() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let mut cfg = config(temp.path());
    cfg.runner.max_concurrency = 1;
    let server = TestServer::start_with(cfg.clone()).await?;
    let b64 =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cloudexec_tests::guest_bytes("hostile")?);
    server
        .as_app(Method::POST, "/v1/functions")
        .json(&json!({"name": "hostile", "wasm_base64": b64, "async_timeout_ms": 400}))
        .send()
        .await?
        .error_for_status()?;
    let mut ids = Vec::new();
    // The first job loops until its deadline, so the ones behind it are still waiting
    // when the server stops.
    for input in [json!({"action": "loop"}), json!({"action": "echo", "n": 1}), json!({"action": "echo", "n": 2})] {
        let accepted: Value = server
            .as_app(Method::POST, "/v1/functions/hostile/invoke?async=true")
            .json(&input)
            .send()
            .await?
            .json()
            .await?;
        ids.push(accepted["job_id"].as_i64().ok_or_else(|| anyhow::anyhow!("no job id"))?);
    }
    server.stop().await?;

    let restarted = TestServer::start_with(cfg).await?;
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(restarted.wait_for_job(*id).await?["status"].clone());
    }
    assert_eq!(statuses, [json!("deadline_exceeded"), json!("fulfilled"), json!("fulfilled")]);
    let echoed = restarted.wait_for_job(ids[2]).await?;
    assert_eq!(echoed["output"], json!({"action": "echo", "n": 2}));
    let jobs: Value = restarted.as_app(Method::GET, "/v1/functions/hostile/jobs").send().await?.json().await?;
    assert_eq!(jobs["total"], 3, "exactly one record per job");
    restarted.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_and_bindings_survive_a_restart_and_keep_running() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let cfg = config(temp.path());
    let server = TestServer::start_with(cfg.clone()).await?;
    let bin_id = server.upload_bin("hostile-bin").await?;
    let created = server.new_instance(&bin_id).await?;
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();
    for _ in 0..3 {
        server
            .as_app(Method::POST, &format!("/v1/instances/{id}/runs"))
            .json(&json!({"incr": 1}))
            .send()
            .await?
            .error_for_status()?;
    }
    let published = json!({"alias": "counter", "category": 1, "binId": bin_id});
    server.as_app(Method::POST, "/v1/services").json(&published).send().await?.error_for_status()?;
    server.stop().await?;

    let restarted = TestServer::start_with(cfg).await?;
    let dynamic = restarted.as_app(Method::POST, "/v1/services/counter/instances").send().await?;
    assert_eq!(dynamic.status(), 201, "the service is still published");
    let runs =
        restarted.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({"incr": 1})).send().await?;
    assert_eq!(runs.status(), 200);
    let instance: Value = restarted.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
    assert_eq!(instance["variables"]["counter"]["data"], 4, "{instance}");
    assert_eq!(instance["runs"], 4);
    restarted.stop().await?;
    Ok(())
}
