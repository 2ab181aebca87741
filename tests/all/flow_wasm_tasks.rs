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
