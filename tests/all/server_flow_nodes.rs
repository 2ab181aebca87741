//! Flow executions on two nodes sharing one PostgreSQL database: a finish callback or a
//! stop that reaches the node not driving the execution still reaches it, and a node that
//! stops hands its executions (with their `Wait` timers) to another.

use std::time::Duration;

use cloudexec_tests::endpoints::Endpoints;
use cloudexec_tests::postgres::TestPostgres;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, execution, start_id, task, wait_end};
use crate::server::{TestServer, config};

/// Two nodes' configs on `url` with a 3 s lease.
fn node(dir: &tempfile::TempDir, url: &str, id: &str) -> cloudexec::server::ServerConfig {
    let mut cfg = config(dir.path());
    cfg.database_url = Some(url.to_string());
    cfg.node_id = Some(id.into());
    cfg.runner.lease = Duration::from_secs(3);
    cfg
}

/// A DAG whose one task is an async HTTP task at `url`.
fn async_flow(url: &str) -> String {
    format!(
        "version: 1\nworkspace: t\ndagName: a\ntype: flow\ntasks:\n  - category: function\n    name: worker\n    \
         pattern: task_async\n    resourceName: \"{url}\"\n    inputMappings: [{{target: $.input.value, source: $.context.value}}]\n    \
         outputMappings: [{{target: $.context.doubled, source: $.output.doubled}}]\n"
    )
}

/// Polls until `n` async task calls reached the endpoints; returns their callback URLs.
async fn callbacks(ep: &Endpoints, n: usize) -> anyhow::Result<Vec<String>> {
    for _ in 0..400 {
        let calls = ep.seen.async_calls.lock().map(|c| c.clone()).unwrap_or_default();
        if calls.len() >= n {
            return Ok(calls.into_iter().map(|(_, url)| url).collect());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the async tasks were not called")
}

/// `url` (a callback URL naming node A) pointed at `to` instead, with `task` as its task.
fn moved(url: &str, from: &TestServer, to: &TestServer, task: &str) -> String {
    url.replace(&from.url(""), &to.url("")).replace("taskName=worker", &format!("taskName={task}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_or_a_stop_sent_to_another_node_reaches_the_node_driving_the_execution() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("flow_nodes")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = TestServer::start_with(node(&dir_a, &url, "node-a")).await?;
    let b = TestServer::start_with(node(&dir_b, &url, "node-b")).await?;
    let ep = Endpoints::start()?;
    create_flow(&a, "never", &async_flow(&ep.url("/async?callback=never"))).await?;
    let paid = start_id(&a, "never", json!({ "value": 21 })).await?;
    let stopped = start_id(&a, "never", json!({ "value": 1 })).await?;
    let urls = callbacks(&ep, 2).await?;
    let url_of = |id: &str| urls.iter().find(|u| u.contains(id)).cloned().unwrap_or_default();
    assert_eq!(execution(&b, &paid).await?["node"], "node-a", "node A drives what it started");

    // A task name the execution lacks: node A's answer comes back through node B.
    let body = json!({ "result_type": "SUCCESS", "response": { "doubled": 42 } });
    let unknown = b.client.post(moved(&url_of(&paid), &a, &b, "nope")).json(&body).send().await?;
    assert_eq!(unknown.status(), 404, "{}", unknown.text().await?);

    // The real callback, posted to node B, completes the task node A started.
    let finished = b.client.post(moved(&url_of(&paid), &a, &b, "worker")).json(&body).send().await?;
    assert_eq!(finished.status(), 200, "{}", finished.text().await?);
    let view = wait_end(&b, &paid).await?;
    assert_eq!((view["status"].as_str(), &view["output"]["doubled"]), (Some("Succeeded"), &json!(42)), "{view}");
    assert_eq!(view["node"], "node-a");
    let again = b.client.post(moved(&url_of(&paid), &a, &b, "worker")).json(&body).send().await?;
    assert_eq!(again.status(), 404, "an ended execution takes no callback: {}", again.text().await?);

    // A stop sent to node B stops the execution node A drives.
    let answer: Value = b.as_app(Method::POST, &format!("/v1/executions/{stopped}/stop")).send().await?.json().await?;
    assert_eq!(answer["status"], "Stopped", "{answer}");
    assert_eq!(execution(&a, &stopped).await?["status"], "Stopped");
    b.stop().await?;
    a.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_hands_its_executions_and_their_timers_to_another() -> anyhow::Result<()> {
    let Some(cluster) = TestPostgres::start()? else { return Ok(()) };
    let url = cluster.create_database("handover")?;
    let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = TestServer::start_with(node(&dir_a, &url, "node-a")).await?;
    let b = TestServer::start_with(node(&dir_b, &url, "node-b")).await?;
    let yaml = "Type: StateMachine\nSpecVersion: v1\nName: w\nStartAt: Nap\nStates:\n  \
                - {Name: Nap, Type: Wait, Seconds: 3, Next: Done}\n  - {Name: Done, Type: Succeed}\n";
    create_flow(&a, "nap", yaml).await?;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(start_id(&a, "nap", json!({ "i": i })).await?);
    }
    // Node A stops while every execution waits: its lease ends with it, so node B takes
    // them over, and their stored timers fire there.
    a.stop().await?;
    for (i, id) in ids.iter().enumerate() {
        let view = wait_end(&b, id).await?;
        assert_eq!((view["status"].as_str(), &view["output"]), (Some("Succeeded"), &json!({ "i": i })), "{view}");
        assert_eq!(view["node"], "node-b", "{view}");
        assert_eq!(task(&view, "Nap")["status"], "SUCCEED", "{view}");
    }
    b.stop().await?;
    Ok(())
}
