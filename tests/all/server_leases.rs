//! Leased jobs (issue 12, item 3, on SQLite): a node's claimed jobs stay its own while it
//! heartbeats; a restart of another node does not take them; once its heartbeat stops for
//! longer than the lease, any node puts them back to waiting and runs them, and each job
//! still gets exactly one record. The other nodes here are real stores on the same
//! database file, claiming and heartbeating as a node does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cloudexec::store::Store;
use cloudexec::store::sqlite::SqliteStore;
use cloudexec::time::now_us;
use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TestServer, config};

/// Long enough that a busy CI machine never misses a renewal by that much.
const LEASE: Duration = Duration::from_secs(3);

/// Heartbeats as `node` through `store` every 100 ms until the flag is cleared.
fn keep_beating(
    store: &Arc<SqliteStore>,
    node: &'static str,
) -> (Arc<AtomicBool>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let beating = Arc::new(AtomicBool::new(true));
    let (store, flag) = (store.clone(), beating.clone());
    let task = tokio::spawn(async move {
        while flag.load(Ordering::SeqCst) {
            store.heartbeat(node, now_us()).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::Ok(())
    });
    (beating, task)
}

async fn status(server: &TestServer, id: i64) -> anyhow::Result<Value> {
    let job: Value = server.as_app(Method::GET, &format!("/v1/jobs/{id}")).send().await?.json().await?;
    Ok(job["status"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_keeps_its_jobs_while_it_heartbeats_and_loses_them_once_it_stops() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let mut cfg = config(temp.path());
    cfg.runner.max_concurrency = 1;
    cfg.runner.lease = LEASE;
    cfg.node_id = Some("node-a".into());
    let server = TestServer::start_with(cfg.clone()).await?;
    let b64 =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cloudexec_tests::guest_bytes("hostile")?);
    // `looper`'s job loops until its short deadline, so the two `echo` jobs behind it (with
    // the default deadline: a busy machine gets seconds of room) still wait when A stops.
    for (name, timeout_ms) in [("looper", 400), ("echo", 30_000)] {
        server
            .as_app(Method::POST, "/v1/functions")
            .json(&json!({"name": name, "wasm_base64": b64, "async_timeout_ms": timeout_ms}))
            .send()
            .await?
            .error_for_status()?;
    }
    let mut ids = Vec::new();
    for (name, input) in [
        ("looper", json!({"action": "loop"})),
        ("echo", json!({"action": "echo", "n": 1})),
        ("echo", json!({"action": "echo", "n": 2})),
    ] {
        let path = format!("/v1/functions/{name}/invoke?async=true");
        let accepted: Value = server.as_app(Method::POST, &path).json(&input).send().await?.json().await?;
        ids.push(accepted["job_id"].as_i64().ok_or_else(|| anyhow::anyhow!("no job id in {accepted}"))?);
    }
    // Stop once the looper runs: the stop waits for it, and the echo jobs stay waiting.
    for _ in 0..400 {
        if status(&server, ids[0]).await? != "waiting" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.stop().await?;

    // Node B claims one waiting job and keeps heartbeating; node C claimed the other and
    // its heartbeat stopped a minute ago.
    let db = temp.path().join(cloudexec::server::DATABASE_FILE);
    let other = Arc::new(SqliteStore::open(&db)?);
    let now = now_us();
    other.heartbeat("node-b", now).await?;
    other.heartbeat("node-c", now - 60_000_000).await?;
    let by_b = other.claim_jobs("node-b", 1, &[], now).await?;
    let by_c = other.claim_jobs("node-c", 1, &[], now).await?;
    assert_eq!((by_b.len(), by_c.len()), (1, 1), "each node claimed one waiting job");
    let (b_job, c_job) = (by_b[0].id, by_c[0].id);
    assert_eq!([b_job, c_job], [ids[1], ids[2]], "the echo jobs were left waiting, oldest claimed first");
    let (beating, heartbeat) = keep_beating(&other, "node-b");

    // Node A restarts: C's job is reclaimed and runs; B's stays B's while B heartbeats.
    let restarted = TestServer::start_with(cfg).await?;
    assert_eq!(restarted.wait_for_job(c_job).await?["status"], "fulfilled");
    tokio::time::sleep(LEASE + Duration::from_secs(1)).await;
    assert_eq!(status(&restarted, b_job).await?, "executing", "a live node's job is not taken");

    // B stops heartbeating: past its lease, A takes its job back and runs it.
    beating.store(false, Ordering::SeqCst);
    heartbeat.await??;
    assert_eq!(restarted.wait_for_job(b_job).await?["status"], "fulfilled");
    let metrics =
        restarted.with_token(crate::server::ADMIN_TOKEN, Method::GET, "/metrics").send().await?.text().await?;
    let reclaimed = metrics
        .lines()
        .find_map(|l| l.strip_prefix("cloudexec_jobs_reclaimed_total "))
        .and_then(|v| v.trim().parse::<u64>().ok());
    assert_eq!(reclaimed, Some(2), "{metrics}");
    let jobs: Value = restarted.as_app(Method::GET, "/v1/functions/echo/jobs").send().await?.json().await?;
    assert_eq!(jobs["total"], 2, "exactly one record per job");
    restarted.stop().await?;
    assert_eq!(std::fs::read_to_string(temp.path().join("node-id")).ok(), None, "a given node id is not kept");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_s_late_end_for_a_job_taken_from_it_is_not_recorded() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let server = TestServer::start_with(config(temp.path())).await?;
    server.deploy("hostile", "hostile").await?.error_for_status()?;
    let node = std::fs::read_to_string(temp.path().join("node-id"))?;
    assert!(node.trim().starts_with("node-"), "a node id is made and kept: {node:?}");
    server.stop().await?;
    let restarted = TestServer::start_with(config(temp.path())).await?;
    assert_eq!(std::fs::read_to_string(temp.path().join("node-id"))?, node, "the same node after a restart");
    restarted.stop().await?;

    // A job claimed by a node that then lost it: the end that node writes late is ignored.
    let store = SqliteStore::open(&temp.path().join(cloudexec::server::DATABASE_FILE))?;
    let app_key = store.list_apps().await?.first().map(|a| a.app_key).ok_or_else(|| anyhow::anyhow!("no app"))?;
    let function = store.get_function(app_key, "hostile").await?.ok_or_else(|| anyhow::anyhow!("no function"))?;
    let job = crate::support::waiting_job(app_key, &function, 0);
    let id = store.insert_waiting_job(job).await?;
    store.heartbeat("node-x", now_us() - 60_000_000).await?;
    store.claim_jobs("node-x", 1, &[], now_us()).await?;
    assert_eq!(store.reclaim_jobs(now_us() - 10_000_000).await?, 1);
    store.heartbeat("node-y", now_us()).await?;
    assert_eq!(store.claim_jobs("node-y", 1, &[], now_us()).await?.len(), 1);
    let end = |output: Value| cloudexec::store::JobOutcome {
        end: cloudexec::store::JobEnd { result: Ok(output), mem_usage: 0, started_at: now_us(), finished_at: now_us() },
        log: String::new(),
    };
    store.finish_job("node-x", id, end(json!("late"))).await?;
    let job = store.get_job(app_key, id).await?.ok_or_else(|| anyhow::anyhow!("no job"))?;
    assert_eq!(job.status(), cloudexec::store::JobStatus::Executing, "node X's end is not recorded");
    store.finish_job("node-y", id, end(json!("mine"))).await?;
    let job = store.get_job(app_key, id).await?.ok_or_else(|| anyhow::anyhow!("no job"))?;
    assert_eq!(job.state.end().map(|e| e.result.clone()), Some(Ok(json!("mine"))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_live_node_with_the_same_id_is_refused_and_a_stopped_one_is_waited_out() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let mut cfg = config(temp.path());
    cfg.runner.lease = LEASE;
    cfg.node_id = Some("node-a".into());
    let other = Arc::new(SqliteStore::open(&temp.path().join(cloudexec::server::DATABASE_FILE))?);
    let (beating, heartbeat) = keep_beating(&other, "node-a");
    let refused = TestServer::start_with(cfg.clone()).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("another live node heartbeats as \"node-a\""), "{refused}");
    // The other process stops (as a crashed node does): the next start waits its lease out.
    beating.store(false, Ordering::SeqCst);
    heartbeat.await??;
    let server = TestServer::start_with(cfg).await?;
    server.stop().await?;
    assert_eq!(other.node_heartbeat("node-a").await?, None, "a stopped node gives its lease up");
    Ok(())
}
