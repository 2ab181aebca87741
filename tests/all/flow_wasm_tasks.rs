//! Wasm function tasks take one of two ways: straight onto a guest thread when the
//! function is cached and a slot is free, or through an async task that waits for a slot
//! or reads the function from the store. Both must give the same results and job records.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, run_sync};
use crate::server::{TestServer, config};

/// A foreach of six `flow-start-node` tasks, all allowed at once.
const SUMS: &str = r#"
version: 1
workspace: t
dagName: sums
type: flow
tasks:
  - category: foreach
    name: each
    inputMappings: [{target: $.input.items, source: $.context.items}]
    iterationMapping: {collection: $.input.items, item: item}
    synchronization: {maxConcurrency: 6}
    outputMappings: [{target: $.context.sums, source: "$.output.sub_context.[*].sum"}]
    tasks:
      - category: function
        name: add
        pattern: task_sync
        resourceName: function://flow-start-node
        inputMappings:
          - {target: $.input.left, source: $.context.item}
          - {target: $.input.right, source: 10}
        outputMappings: [{target: $.context.sum, source: $.output.result_number}]
"#;

async fn flow_jobs(server: &TestServer) -> anyhow::Result<Value> {
    Ok(server.as_app(Method::GET, "/v1/functions/flow-start-node/jobs?source=flow").send().await?.json().await?)
}

async fn run_sums(server: &TestServer) -> anyhow::Result<()> {
    let (status, view) = run_sync(server, "sums", json!({ "items": [1, 2, 3, 4, 5, 6] }), 30_000).await?;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["sums"], json!([11, 12, 13, 14, 15, 16]), "{view}");
    Ok(())
}

#[tokio::test]
async fn tasks_that_wait_for_a_slot_or_a_cold_cache_give_the_same_results() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut one_slot = config(dir.path());
    one_slot.runner.max_concurrency = 1;
    let server = TestServer::start_with(one_slot.clone()).await?;
    assert_eq!(server.deploy("flow-start-node", "flow-start-node").await?.status(), 201);
    create_flow(&server, "sums", SUMS).await?;
    // One slot, six tasks at once: the first goes straight to a guest thread, the others
    // wait for the slot.
    run_sums(&server).await?;
    let jobs = flow_jobs(&server).await?;
    assert_eq!(jobs["total"], 6, "one job record per task: {jobs}");
    server.stop().await?;

    // A restarted server has nothing cached: the first tasks read the function from the store.
    let server = TestServer::start_with(one_slot).await?;
    run_sums(&server).await?;
    let jobs = flow_jobs(&server).await?;
    assert_eq!(jobs["total"], 12, "{jobs}");
    let statuses: Vec<&str> =
        jobs["items"].as_array().into_iter().flatten().filter_map(|j| j["status"].as_str()).collect();
    assert_eq!(statuses.len(), 12, "{jobs}");
    assert!(statuses.iter().all(|s| *s == "fulfilled"), "{statuses:?}");
    server.stop().await?;
    Ok(())
}

/// A state machine that adds 1 to `$.acc` with a wasm task, forever.
const FOREVER: &str = r#"
Type: StateMachine
SpecVersion: v1
Name: forever
StartAt: add
States:
  - Name: add
    Type: Task
    Resource: function://flow-start-node
    Parameters:
      left.$: $.acc
      right: 1
    ResultSelector:
      acc.$: $.result_number
    ResultPath: $
    Next: again
  - Name: again
    Type: Choice
    Choices:
      - Condition: $.acc < 1000000000
        Next: add
    Default: done
  - {Name: done, Type: Succeed}
"#;

/// The execution's status and the `acc` its stored state reached (its `add` task's last input).
async fn progress(server: &TestServer, id: &str) -> anyhow::Result<(String, i64)> {
    let view = crate::flow_support::execution(server, id).await?;
    let acc = crate::flow_support::task(&view, "add")["input"]["left"].as_i64().unwrap_or(0);
    Ok((view["status"].as_str().unwrap_or_default().to_string(), acc))
}

/// Waits until the execution's `acc` passes `floor`; returns it.
async fn progress_past(server: &TestServer, id: &str, floor: i64) -> anyhow::Result<i64> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, acc) = progress(server, id).await?;
        if acc > floor {
            return Ok(acc);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "the loop did not get past {floor}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_chain_of_wasm_tasks_does_not_hold_up_a_shutdown_and_resumes_after_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = TestServer::start_with(config(dir.path())).await?;
    assert_eq!(server.deploy("flow-start-node", "flow-start-node").await?.status(), 201);
    create_flow(&server, "forever", FOREVER).await?;
    let id = crate::flow_support::start_id(&server, "forever", json!({ "acc": 0 })).await?;
    let before = progress_past(&server, &id, 0).await?;
    // Each step starts the next guest on the same thread; the stop must still end it
    // (the timeout only catches a hang).
    tokio::time::timeout(std::time::Duration::from_secs(60), server.stop()).await??;

    let server = TestServer::start_with(config(dir.path())).await?;
    let (status, stopped_at) = progress(&server, &id).await?;
    assert_eq!(status, "Running", "resumed after the restart");
    assert!(stopped_at >= before, "{before} -> {stopped_at}");
    progress_past(&server, &id, stopped_at).await?;
    let stop = server.as_app(reqwest::Method::POST, &format!("/v1/executions/{id}/stop")).send().await?;
    assert_eq!(stop.status(), 200, "{}", stop.text().await?);
    let (status, _) = progress(&server, &id).await?;
    assert_eq!(status, "Stopped");
    server.stop().await?;
    Ok(())
}
