//! Seed 002 (Rill Flow) as its client uses it: the seed's own descriptor added with
//! `add_descriptor.json`, submitted, read with `get.json` (HTTP and wasm tasks), and the
//! finish callback of async tasks.

use std::time::Duration;

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, deploy_sample_functions, start, wait_end};
use crate::server::TestServer;

/// Seed 002's descriptor, verbatim apart from indentation and the two resource names.
fn seed_descriptor(start_node: &str, end_node: &str) -> String {
    format!(
        r#"---
version: 20230829
workspace: demoFlowTest
dagName: demoTest
type: flow
tasks:
- category: function
  name: startNode
  next: endNode
  resourceName: {start_node}
  pattern: task_sync
  inputMappings:
  - target: $.input.right
    source: $.context.right
  - target: $.input.left
    source: $.context.left
  outputMappings:
  - target: $.context.result_number
    source: $.output.result_number
- category: function
  name: endNode
  resourceName: {end_node}
  pattern: task_sync
  inputMappings:
  - target: $.input.result_number
    source: $.context.result_number
  - target: $.input.expect_number
    source: $.context.result_number
"#
    )
}

async fn rill_get(server: &TestServer, id: &str) -> anyhow::Result<Value> {
    for _ in 0..400 {
        let got: Value =
            server.as_app(Method::GET, &format!("/flow/get.json?execution_id={id}")).send().await?.json().await?;
        if got["ret"]["dag_status"] != "RUNNING" {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("execution {id} did not end")
}

async fn seed002_round_trip(server: &TestServer, descriptor: String) -> anyhow::Result<Value> {
    let added: Value = server
        .as_app(Method::POST, "/flow/bg/manage/descriptor/add_descriptor.json?business_id=demoFlowTest&feature_name=demoFlowTest&alias=release")
        .header("content-type", "text/plain")
        .body(descriptor)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(added["ret"], true, "{added}");
    assert_eq!(added["descriptor_id"], "demoFlowTest:demoTest");
    let submitted: Value = server
        .as_app(Method::POST, "/flow/submit.json?descriptor_id=demoFlowTest:demoTest")
        .json(&json!({"left": 512, "right": 512}))
        .send()
        .await?
        .json()
        .await?;
    let id = submitted["execution_id"].as_str().unwrap_or_default().to_string();
    assert!(!id.is_empty(), "{submitted}");
    rill_get(server, &id).await
}

#[tokio::test]
async fn the_seed_002_example_runs_with_http_and_with_wasm_tasks() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let got = seed002_round_trip(&server, seed_descriptor(&ep.url("/start_node"), &ep.url("/end_node"))).await?;
    let ret = &got["ret"];
    assert_eq!(ret["dag_status"], "SUCCEED", "{got}");
    assert_eq!(ret["process"], 100);
    assert_eq!(ret["tasks"]["startNode"]["status"], "SUCCEED");
    assert_eq!(ret["tasks"]["startNode"]["next"], json!(["endNode"]));
    assert_eq!(ret["tasks"]["startNode"]["contains_sub"], false);
    assert_eq!(ret["tasks"]["startNode"]["task"]["pattern"], "task_sync");
    assert_eq!(ret["tasks"]["endNode"]["status"], "SUCCEED");
    assert_eq!(ret["context"]["result_number"], 1024);
    deploy_sample_functions(&server).await?;
    let wasm = seed_descriptor("function://flow-start-node", "function://flow-end-node");
    let got = seed002_round_trip(&server, wasm).await?;
    assert_eq!(got["ret"]["dag_status"], "SUCCEED", "{got}");
    assert_eq!(got["ret"]["tasks"]["endNode"]["output"]["result_number"], 1024);
    let brief: Value = server
        .as_app(
            Method::GET,
            &format!(
                "/flow/get.json?execution_id={}&brief=true",
                got["ret"]["execution_id"].as_str().unwrap_or_default()
            ),
        )
        .send()
        .await?
        .json()
        .await?;
    assert!(brief["ret"].get("tasks").is_none(), "{brief}");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn finish_callbacks_for_unknown_executions_or_tasks_are_404() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        "version: 1\nworkspace: t\ndagName: cb\ntype: flow\ntasks:\n  - {{category: function, name: worker, pattern: task_async, resourceName: \"{}\"}}\n",
        ep.url("/async?callback=never")
    );
    create_flow(&server, "cb", &yaml).await?;
    let (_, started) = start(&server, "cb", json!({ "input": {} })).await?;
    let id = started["execution_id"].as_str().unwrap_or_default().to_string();
    let finish = |query: String| server.client.post(server.url(&format!("/flow/finish.json?{query}")));
    let body = json!({ "result_type": "SUCCESS", "response": { "x": 1 } });
    let unknown = finish("executionId=nope&taskName=worker".into()).json(&body).send().await?;
    assert_eq!(unknown.status(), 404);
    // The task must have been accepted first; wait until the worker saw the call.
    for _ in 0..100 {
        if ep.seen.async_calls.lock().map(|c| !c.is_empty()).unwrap_or(false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let no_task = finish(format!("executionId={id}&taskName=ghost")).json(&body).send().await?;
    assert_eq!(no_task.status(), 404);
    let bad = finish(format!("executionId={id}&taskName=worker")).json(&json!({"result_type": "MAYBE"})).send().await?;
    assert_eq!(bad.status(), 400);
    let ok: Value = finish(format!("executionId={id}&taskName=worker")).json(&body).send().await?.json().await?;
    assert_eq!(ok, json!({ "result": "ok" }));
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let again = finish(format!("executionId={id}&taskName=worker")).json(&body).send().await?;
    assert_eq!(again.status(), 404, "the execution ended");
    server.stop().await?;
    Ok(())
}
