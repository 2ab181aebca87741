//! `cloudexec serve --database postgres://…`: the whole server on a throwaway PostgreSQL
//! database, and a second node on the same database serving what the first stored (module
//! bytes live in the database; each node compiles into its own data dir).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{ADMIN_TOKEN, TestServer, config};
use cloudexec_tests::postgres::TestPostgres;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_database_serve_the_same_functions_and_jobs() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("serve")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let node = |dir: &tempfile::TempDir, id: &str| {
        let mut cfg = config(dir.path());
        cfg.database_url = Some(url.clone());
        cfg.node_id = Some(id.into());
        cfg.runner.lease = Duration::from_secs(3);
        cfg
    };
    let a = TestServer::start_with(node(&dir_a, "node-a")).await?;
    a.deploy("hello", "hello").await?.error_for_status()?;
    let answer: Value =
        a.as_app(Method::POST, "/v1/functions/hello/invoke").json(&json!({"name": "Ada"})).send().await?.json().await?;
    assert_eq!(
        (answer["status"].as_str(), &answer["output"]),
        (Some("fulfilled"), &json!({"greeting": "Hello, Ada!"}))
    );
    assert!(!dir_a.path().join(cloudexec::server::DATABASE_FILE).exists(), "no SQLite file beside PostgreSQL");
    let health: Value = a.client.get(a.url("/healthz")).send().await?.error_for_status()?.json().await?;
    assert_eq!(health, json!({"status": "ok", "node": "node-a", "store": "postgres"}));

    // Node B, started on the same database with a data dir of its own, runs the function
    // node A stored, and sees node A's jobs.
    let b = TestServer::start_with(node(&dir_b, "node-b")).await?;
    let accepted: Value = b
        .as_app(Method::POST, "/v1/functions/hello/invoke?async=true")
        .json(&json!({"name": "Bo"}))
        .send()
        .await?
        .json()
        .await?;
    let id = accepted["job_id"].as_i64().ok_or_else(|| anyhow::anyhow!("no job id in {accepted}"))?;
    let done = a.wait_for_job(id).await?;
    assert_eq!((done["status"].as_str(), &done["output"]), (Some("fulfilled"), &json!({"greeting": "Hello, Bo!"})));
    let log = a.as_app(Method::GET, &format!("/v1/jobs/{id}/log")).send().await?.text().await?;
    assert!(log.contains("Bo"), "the job's log is stored: {log:?}");
    // Each node times its round trips to the database (its lease renews every 300 ms).
    for _ in 0..100 {
        let metrics = b.with_token(ADMIN_TOKEN, Method::GET, "/metrics").send().await?.text().await?;
        let count = |call: &str| {
            let prefix = format!("cloudexec_store_round_trip_seconds_count{{call=\"{call}\"}} ");
            metrics.lines().find_map(|l| l.strip_prefix(&prefix)?.parse::<u64>().ok()).unwrap_or(0)
        };
        if count("heartbeat") > 0 && count("claim_jobs") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = b.with_token(ADMIN_TOKEN, Method::GET, "/metrics").send().await?.text().await?;
    for call in ["heartbeat", "claim_jobs"] {
        let line = format!("cloudexec_store_round_trip_seconds_count{{call=\"{call}\"}} 0");
        assert!(metrics.contains(&format!("call=\"{call}\"")) && !metrics.contains(&line), "{metrics}");
    }
    let jobs: Value = b.as_app(Method::GET, "/v1/functions/hello/jobs").send().await?.json().await?;
    assert_eq!(jobs["total"], 2, "{jobs}");
    b.stop().await?;

    // Node A restarts on the database: everything is still there.
    a.stop().await?;
    let a = TestServer::start_with(node(&dir_a, "node-a")).await?;
    let listed: Value = a.as_app(Method::GET, "/v1/functions").send().await?.json().await?;
    assert_eq!(listed["total"], 1, "{listed}");
    a.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_url_of_another_kind_is_refused_at_start() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cfg = config(dir.path());
    cfg.database_url = Some("mysql://root:secret@db/x".into());
    let error = TestServer::start_with(cfg).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("unsupported database URL"), "{error}");
    assert!(!error.contains("secret"), "the password is not echoed: {error}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_started_at_once_on_an_empty_database_all_come_up_with_one_default_app() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("race")?;
    let dirs = [tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?];
    let starts = dirs.iter().enumerate().map(|(i, dir)| {
        let mut cfg = config(dir.path());
        cfg.database_url = Some(url.clone());
        cfg.node_id = Some(format!("node-{i}"));
        tokio::spawn(TestServer::start_with(cfg))
    });
    let mut servers = Vec::new();
    for start in starts.collect::<Vec<_>>() {
        servers.push(start.await??);
    }
    let apps: Value = servers[0]
        .with_token(crate::server::ADMIN_TOKEN, Method::GET, "/v1/apps")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let count = apps.as_array().map(Vec::len).or_else(|| apps["items"].as_array().map(Vec::len));
    assert_eq!(count, Some(1), "one default app: {apps}");
    for server in &servers {
        let listed: Value =
            server.as_app(Method::GET, "/v1/functions").send().await?.error_for_status()?.json().await?;
        assert_eq!(listed["total"], 0, "every node serves the default app's token");
    }
    for server in servers {
        server.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_running_one_instance_at_once_lose_no_update() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("instances")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let node = |dir: &tempfile::TempDir, id: &str| {
        let mut cfg = config(dir.path());
        cfg.database_url = Some(url.clone());
        cfg.node_id = Some(id.into());
        cfg
    };
    let a = TestServer::start_with(node(&dir_a, "node-a")).await?;
    let b = TestServer::start_with(node(&dir_b, "node-b")).await?;
    let instance = a.new_instance(&a.upload_bin("hostile-bin").await?).await?;
    let id = instance["executeInstanceId"].as_str().ok_or_else(|| anyhow::anyhow!("no id in {instance}"))?.to_string();
    // 200 runs, half through each node, all at once: each adds 1 to `counter`.
    let mut runs = Vec::new();
    for i in 0..200 {
        let server = if i % 2 == 0 { &a } else { &b };
        let request = server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({"incr": 1})).send();
        runs.push(tokio::spawn(request));
    }
    for run in runs {
        let response = run.await??;
        assert_eq!(response.status(), 200, "{}", response.text().await?);
    }
    let instance: Value = b.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
    assert_eq!(
        (&instance["variables"]["counter"]["data"], &instance["runs"]),
        (&json!(200), &json!(200)),
        "{instance}"
    );
    a.stop().await?;
    b.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_keeps_its_own_start_tokens_and_a_restart_revokes_only_its_own() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("start_tokens")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let node = |dir: &tempfile::TempDir, id: &str, app_token: &str| {
        let mut cfg = config(dir.path());
        cfg.database_url = Some(url.clone());
        cfg.node_id = Some(id.into());
        cfg.admin_token = Some(format!("admin-{app_token}"));
        cfg.app_token = Some(app_token.into());
        cfg
    };
    let a = TestServer::start_with(node(&dir_a, "node-a", "token-of-node-a-0123456789")).await?;
    let b = TestServer::start_with(node(&dir_b, "node-b", "token-of-node-b-0123456789")).await?;
    let status = |server: &TestServer, token: &str| {
        let request = server.with_token(token, Method::GET, "/v1/functions").send();
        async move { anyhow::Ok(request.await?.status().as_u16()) }
    };
    for server in [&a, &b] {
        for token in ["token-of-node-a-0123456789", "token-of-node-b-0123456789"] {
            assert_eq!(status(server, token).await?, 200, "{token} on {}", server.url(""));
        }
        let admin = server.with_token("admin-token-of-node-a-0123456789", Method::GET, "/v1/apps").send().await?;
        assert_eq!(admin.status(), 200);
    }
    // Node A restarts with a new app token: its old one is refused everywhere, node B's stays.
    a.stop().await?;
    let a = TestServer::start_with(node(&dir_a, "node-a", "new-token-of-node-a-012345")).await?;
    for _ in 0..200 {
        if status(&b, "token-of-node-a-0123456789").await? == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for server in [&a, &b] {
        assert_eq!(status(server, "token-of-node-a-0123456789").await?, 401);
        assert_eq!(status(server, "new-token-of-node-a-012345").await?, 200);
        assert_eq!(status(server, "token-of-node-b-0123456789").await?, 200);
    }
    b.stop().await?;
    a.stop().await?;
    Ok(())
}
