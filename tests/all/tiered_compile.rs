//! Tiered compilation on a real server: a freshly uploaded Python component (18 MB)
//! answers on Winch's code (`code_tier: baseline`), stops at its deadline there too, has
//! Cranelift's code swapped in by the background compile without a changed answer, and
//! after a restart loads the optimized code from the artifact cache straight away.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TestServer, config};
use crate::support::language_guest_bytes;

/// Ample for a Cranelift compile of 18 MB in a debug host on two busy cores.
const OPTIMIZE_WITHIN: Duration = Duration::from_secs(300);

async fn function(server: &TestServer, name: &str) -> anyhow::Result<Value> {
    Ok(server.as_app(Method::GET, &format!("/v1/functions/{name}")).send().await?.error_for_status()?.json().await?)
}

/// Waits until this node runs Cranelift's code of function `name`.
pub async fn wait_optimized(server: &TestServer, name: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while function(server, name).await?["code_tier"] != "optimized" {
        anyhow::ensure!(started.elapsed() < OPTIMIZE_WITHIN, "Cranelift's code of {name} was never swapped in");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

async fn invoke(server: &TestServer, name: &str, input: Value) -> anyhow::Result<Value> {
    let response = server.as_app(Method::POST, &format!("/v1/functions/{name}/invoke")).json(&input).send().await?;
    anyhow::ensure!(response.status() == 200, "invoke answered {}", response.status());
    Ok(response.json().await?)
}

async fn upload(server: &TestServer, name: &str, wasm: Vec<u8>, query: &str) -> anyhow::Result<Value> {
    let response = server
        .as_app(Method::POST, &format!("/v1/functions?name={name}{query}"))
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 201, "upload answered {}: {}", response.status(), response.text().await?);
    Ok(response.json().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_component_answers_on_baseline_code_then_runs_optimized_code() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    // A cache of its own: the shared test cache may already hold Cranelift's code.
    let mut settings = config(temp.path());
    settings.engine.cache_dir = Some(temp.path().join("module-cache"));
    let server = TestServer::start_with(settings.clone()).await?;

    let created = upload(&server, "hello-py", language_guest_bytes("python", "hello")?, "").await?;
    assert_eq!(created["code_tier"], "baseline", "a fresh 18 MB upload runs Winch's code first: {created}");
    let first = invoke(&server, "hello-py", json!({"name": "Ada"})).await?;
    assert_eq!(first["output"], json!({"greeting": "Hello, Ada!"}), "{first}");

    let hostile = language_guest_bytes("python", "hostile")?;
    upload(&server, "hostile-py", hostile, "&sync_timeout_ms=2000").await?;
    let looped = invoke(&server, "hostile-py", json!({"action": "loop"})).await?;
    assert_eq!(looped["status"], "deadline_exceeded", "Winch's code stops at the deadline too: {looped}");

    wait_optimized(&server, "hello-py").await?;
    let again = invoke(&server, "hello-py", json!({"name": "Ada"})).await?;
    assert_eq!(again["output"], first["output"], "optimized code answers the same");
    server.stop().await?;

    let restarted = TestServer::start_with(settings).await?;
    assert_eq!(function(&restarted, "hello-py").await?["code_tier"], Value::Null, "not loaded on this node yet");
    let after = invoke(&restarted, "hello-py", json!({"name": "Grace"})).await?;
    assert_eq!(after["output"], json!({"greeting": "Hello, Grace!"}));
    assert_eq!(function(&restarted, "hello-py").await?["code_tier"], "optimized", "the cached artifact is loaded");
    restarted.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_large_component_is_refused_clearly_on_the_baseline_path_and_nothing_is_stored() -> anyhow::Result<()>
{
    let server = TestServer::start().await?;
    // Half of an 18 MB component: a valid header, then it stops mid-section. Large enough
    // for the Winch path; Winch refuses it, and so does Cranelift after it.
    let mut wasm = language_guest_bytes("python", "hello")?;
    wasm.truncate(wasm.len() / 2);
    let response = server
        .as_app(Method::POST, "/v1/functions?name=broken")
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await?;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await?;
    assert_eq!(body["code"], "InvalidArgument", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("wasm") || m.contains("WebAssembly")), "{body}");
    let missing = server.as_app(Method::GET, "/v1/functions/broken").send().await?;
    assert_eq!(missing.status(), 404, "nothing was created");

    server.deploy("hello", "hello").await?.error_for_status()?;
    let answer = invoke(&server, "hello", json!({"name": "Ada"})).await?;
    assert_eq!(answer["output"], json!({"greeting": "Hello, Ada!"}), "the server keeps serving");
    server.stop().await?;
    Ok(())
}
