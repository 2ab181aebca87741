//! Shared steps of the flow tests: creating flows, starting and polling executions.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::TestServer;

/// Creates flow `name` from YAML text; asserts 201.
pub async fn create_flow(server: &TestServer, name: &str, yaml: &str) -> anyhow::Result<Value> {
    let answer = server
        .as_app(Method::POST, &format!("/v1/flows?name={name}"))
        .header("content-type", "text/yaml")
        .body(yaml.to_string())
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    anyhow::ensure!(status == 201, "creating flow {name}: {status} {body}");
    Ok(body)
}

/// Starts an execution; returns the answer's status and body.
pub async fn start(server: &TestServer, flow: &str, body: Value) -> anyhow::Result<(u16, Value)> {
    let answer = server.as_app(Method::POST, &format!("/v1/flows/{flow}/executions")).json(&body).send().await?;
    Ok((answer.status().as_u16(), answer.json().await?))
}

/// Starts an execution of `flow` on `input`; returns its id.
pub async fn start_id(server: &TestServer, flow: &str, input: Value) -> anyhow::Result<String> {
    let (status, body) = start(server, flow, json!({ "input": input })).await?;
    anyhow::ensure!(status == 202, "starting {flow}: {status} {body}");
    Ok(body["execution_id"].as_str().unwrap_or_default().to_string())
}

/// Runs `flow` synchronously; returns the answer's status and body.
pub async fn run_sync(server: &TestServer, flow: &str, input: Value, timeout_ms: u64) -> anyhow::Result<(u16, Value)> {
    let path = format!("/v1/flows/{flow}/executions?sync=true&timeout_ms={timeout_ms}");
    let answer = server.as_app(Method::POST, &path).json(&json!({ "input": input })).send().await?;
    Ok((answer.status().as_u16(), answer.json().await?))
}

/// The execution as `GET /v1/executions/{id}` shows it.
pub async fn execution(server: &TestServer, id: &str) -> anyhow::Result<Value> {
    Ok(server.as_app(Method::GET, &format!("/v1/executions/{id}")).send().await?.json().await?)
}

/// Polls until the execution ended; returns its view.
pub async fn wait_end(server: &TestServer, id: &str) -> anyhow::Result<Value> {
    for _ in 0..600 {
        let view = execution(server, id).await?;
        if !matches!(view["status"].as_str(), Some("Starting" | "Running")) {
            return Ok(view);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("execution {id} did not end")
}

/// The task `key` of an execution view.
pub fn task<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["tasks"].as_array().and_then(|t| t.iter().find(|t| t["key"] == key)).unwrap_or(&Value::Null)
}

/// Every history event of an execution, paged through 100 at a time.
pub async fn history(server: &TestServer, id: &str) -> anyhow::Result<Vec<Value>> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let path = format!("/v1/executions/{id}/history?after={after}&limit=100");
        let page: Value = server.as_app(Method::GET, &path).send().await?.json().await?;
        let batch = page["events"].as_array().cloned().unwrap_or_default();
        events.extend(batch);
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => return Ok(events),
        }
    }
}

/// How many history events of `kind` concern `node`.
pub fn count(events: &[Value], kind: &str, node: &str) -> usize {
    events.iter().filter(|e| e["kind"] == kind && e["node"] == node).count()
}

/// Deploys the seed 002 sample's two tasks as wasm functions.
pub async fn deploy_sample_functions(server: &TestServer) -> anyhow::Result<()> {
    for name in ["flow-start-node", "flow-end-node"] {
        let answer = server.deploy(name, name).await?;
        anyhow::ensure!(answer.status() == 201, "deploying {name}: {}", answer.text().await?);
    }
    Ok(())
}
