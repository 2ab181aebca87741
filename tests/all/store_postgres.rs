//! The PostgreSQL store on a real, throwaway cluster (issue 12): the schema comes up once
//! when several nodes start at the same moment on an empty database.

use cloudexec::engine::Plan;
use cloudexec::store::postgres::{PgStore, SCHEMA_VERSION};
use cloudexec::store::{JobFilter, JobStatus, NewFunction, PageRequest, StoreError};
use cloudexec::time::now_us;
use cloudexec_tests::postgres::TestPostgres;

use crate::support::{fulfilled, waiting_job};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_starting_at_once_on_an_empty_database_all_come_up() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("migration_race")?;
    let nodes = (0..3).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PgStore::connect(&url).await })
    });
    for node in nodes {
        let store = node.await?.map_err(|e| anyhow::anyhow!("{e}; server log:\n{}", cluster.log()))?;
        assert_eq!(store.schema_version().await?, SCHEMA_VERSION);
    }
    let again = PgStore::connect(&url).await?;
    let counts = again.migration_counts().await?;
    let expected: Vec<(i64, i64)> = (1..=SCHEMA_VERSION).map(|v| (v, 1)).collect();
    assert_eq!(counts, expected, "each migration applied exactly once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_that_does_not_parse_or_reach_a_server_is_a_clear_error() -> anyhow::Result<()> {
    let error = PgStore::connect("not a url").await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("the database URL does not parse"), "{error}");
    let error = PgStore::connect("postgres://nobody@127.0.0.1:1/none").await.err().map(|e| e.to_string());
    assert!(error.is_some_and(|e| e.contains("database error")), "no server on port 1");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_claiming_at_once_never_take_the_same_job_and_only_stale_nodes_lose_theirs() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let (store, url, app, function) = store_with_function(&cluster, "jobs").await?;
    let taken = store.create_function(NewFunction { now: now_us(), ..new_function(app.app_key) }).await;
    assert!(matches!(taken, Err(StoreError::AlreadyExists { kind: "Function", .. })), "{taken:?}");
    for n in 0..200 {
        store.insert_waiting_job(waiting_job(app.app_key, &function, n)).await?;
    }
    assert_eq!(store.count_waiting().await?, 200);

    // Three nodes, each with its own pool, claim in small batches at the same time.
    // They connect first and start together, so none finishes before another begins.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(3));
    let mut claimers = Vec::new();
    for node in ["node-1", "node-2", "node-3"] {
        let (url, start) = (url.clone(), start.clone());
        claimers.push(tokio::spawn(async move {
            let store = PgStore::connect(&url).await?;
            store.heartbeat(node, now_us()).await?;
            start.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_jobs(node, 3, &[], now_us()).await?;
                if batch.is_empty() {
                    return anyhow::Ok((node, mine));
                }
                mine.extend(batch.iter().map(|j| j.id));
            }
        }));
    }
    let mut by_node = Vec::new();
    for claimer in claimers {
        by_node.push(claimer.await??);
    }
    let mut all: Vec<i64> = by_node.iter().flat_map(|(_, ids)| ids.clone()).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        200,
        "every job claimed exactly once: {:?}",
        by_node.iter().map(|(n, i)| (n, i.len())).collect::<Vec<_>>()
    );
    assert_eq!(store.count_waiting().await?, 0);

    // Node 3 goes silent: only its jobs go back to waiting.
    let (_, node3_jobs) = &by_node[2];
    store.heartbeat("node-1", now_us()).await?;
    store.heartbeat("node-2", now_us()).await?;
    store.heartbeat("node-3", now_us() - 60_000_000).await?;
    let reclaimed = store.reclaim_jobs(now_us() - 10_000_000).await?;
    assert_eq!(reclaimed, node3_jobs.len() as u64);
    assert_eq!(store.count_waiting().await?, node3_jobs.len() as i64);

    // A job's end is written by the node it runs for, once, with its log. (Which live node
    // claimed jobs depends on timing: take one of either.)
    let (owner, id) = by_node[..2]
        .iter()
        .find_map(|(node, ids)| ids.first().map(|id| (*node, *id)))
        .ok_or_else(|| anyhow::anyhow!("nodes 1 and 2 claimed nothing"))?;
    let other = if owner == "node-1" { "node-2" } else { "node-1" };
    store.finish_job(other, id, fulfilled(json!("not mine"), "")).await?;
    assert_eq!(store.get_job(app.app_key, id).await?.map(|j| j.status()), Some(JobStatus::Executing));
    store.finish_job(owner, id, fulfilled(json!({"ok": true}), "a log line")).await?;
    let job = store.get_job(app.app_key, id).await?.ok_or_else(|| anyhow::anyhow!("job {id} is gone"))?;
    assert_eq!(job.state.end().map(|e| (e.result.clone(), e.mem_usage)), Some((Ok(json!({"ok": true})), 7)));
    assert_eq!(store.job_log(app.app_key, id).await?.as_deref(), Some("a log line"));
    assert_eq!(store.get_job(app.app_key + 1, id).await?, None, "another app does not see it");
    let filter = JobFilter { status: Some(JobStatus::Fulfilled), ..JobFilter::default() };
    let (page, total) = store.list_jobs(function.id, filter, PageRequest { limit: 10, offset: 0 }).await?;
    assert_eq!((total, page.len(), page[0].id), (1, 1, id));
    // A node's restart requeues its own jobs only.
    let requeued = store.requeue_own_jobs("node-2").await?;
    assert_eq!(requeued, by_node[1].1.len() as u64);
    Ok(())
}

/// A store on a new database `name` of `cluster` (and its URL), with app `a` and its
/// function `f`.
async fn store_with_function(
    cluster: &TestPostgres,
    name: &str,
) -> anyhow::Result<(PgStore, String, cloudexec::store::App, cloudexec::store::FunctionRecord)> {
    let url = cluster.create_database(name)?;
    let store = PgStore::connect(&url).await?;
    let app = store.create_app("a").await?;
    store.put_module("sha-1", b"not really wasm".to_vec()).await?;
    let function = store.create_function(NewFunction { now: now_us(), ..new_function(app.app_key) }).await?;
    Ok((store, url, app, function))
}

/// A function record to create in `app_key` (name `f`, module `sha-1`).
pub(crate) fn new_function(app_key: i64) -> NewFunction {
    NewFunction {
        app_key,
        name: "f".into(),
        remark: String::new(),
        plan: Plan::default(),
        sync_timeout_ms: 1000,
        async_timeout_ms: 1000,
        module_sha256: "sha-1".into(),
        now: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_is_kept_in_its_jobs_row_and_one_written_before_migration_8_is_still_read() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let (store, _, app, function) = store_with_function(&cluster, "logs").await?;
    let new =
        store.insert_finished_job(waiting_job(app.app_key, &function, 1), fulfilled(json!(1), "kept inline")).await?;
    assert_eq!(store.job_log(app.app_key, new).await?.as_deref(), Some("kept inline"));
    let quiet = store.insert_finished_job(waiting_job(app.app_key, &function, 2), fulfilled(json!(2), "")).await?;
    assert_eq!(store.job_log(app.app_key, quiet).await?, None, "an empty log is no log");

    // A job recorded before migration 8 has its log in job_logs.
    let old = store.insert_finished_job(waiting_job(app.app_key, &function, 3), fulfilled(json!(3), "")).await?;
    cluster.execute("logs", &format!("INSERT INTO job_logs (job_id, text) VALUES ({old}, 'from before')"))?;
    assert_eq!(store.job_log(app.app_key, old).await?.as_deref(), Some("from before"));
    assert_eq!(store.job_log(app.app_key + 1, old).await?, None, "another app does not read it");
    Ok(())
}
