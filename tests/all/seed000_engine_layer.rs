//! Seed 000, section 4: the callbacks the engine layer provides. 4.3: a bin uploaded with
//! a `getVarUrl` reads variables its instance does not hold from there
//! (`GET getVarUrl?instanceId=&varKey=`); an error answer reaches the bin as an error it
//! handles; the answer is not stored in the instance.

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::server::TestServer;

async fn upload_bin(server: &TestServer, query: &str) -> anyhow::Result<reqwest::Response> {
    let wasm = cloudexec_tests::guest_bytes("hostile-bin")?;
    let path = format!("/v1/bins{query}");
    Ok(server.as_app(Method::POST, &path).header("content-type", "application/wasm").body(wasm).send().await?)
}

async fn run(server: &TestServer, id: &str, updates: Value) -> anyhow::Result<Value> {
    let response = server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&updates).send().await?;
    anyhow::ensure!(response.status() == 200, "run answered {}", response.status());
    Ok(response.json().await?)
}

async fn var(server: &TestServer, id: &str, key: &str) -> anyhow::Result<Value> {
    let response = server.as_app(Method::GET, &format!("/v1/instances/{id}/variables/{key}")).send().await?;
    if response.status() == 404 {
        return Ok(Value::Null);
    }
    Ok(response.json::<Value>().await?["object"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bin_reads_variables_it_lacks_from_its_get_var_url() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let url = ep.url("/vars");
    let uploaded = upload_bin(&server, &format!("?getVarUrl={url}")).await?;
    assert_eq!(uploaded.status(), 201);
    let bin: Value = uploaded.json().await?;
    assert_eq!(bin["manifest"]["getVarUrl"], url.as_str(), "the bin keeps its getVarUrl: {bin}");
    let bin_id = bin["binId"].as_str().unwrap_or_default();
    let created: Value = server
        .as_app(Method::POST, "/v1/instances")
        .json(&json!({"binId": bin_id}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();

    run(&server, &id, json!({"read": "price"})).await?;
    assert_eq!(var(&server, &id, "readValue").await?, json!({"data": 42, "len": 4, "type": 64}));
    assert_eq!(var(&server, &id, "price").await?, Value::Null, "a fetched variable is not stored");

    run(&server, &id, json!({"read": "whoami"})).await?;
    assert_eq!(var(&server, &id, "readValue").await?["data"], id.as_str(), "the instance id is sent");

    run(&server, &id, json!({"read": "plain"})).await?;
    assert_eq!(var(&server, &id, "readValue").await?["data"], "from the engine layer");

    run(&server, &id, json!({"read": "nothing"})).await?;
    assert_eq!(var(&server, &id, "readAbsent").await?["data"], "nothing", "404 is no such variable");

    let broken = run(&server, &id, json!({"read": "broken"})).await?;
    assert_eq!(broken["result"], "ok", "the bin handled the error: {broken}");
    let error = var(&server, &id, "readError").await?;
    let text = error["data"].as_str().unwrap_or_default();
    assert!(text.starts_with("EndpointFailed:") && text.contains("engine layer down"), "{error}");

    // The instance's own variable wins: the engine layer is not asked.
    run(&server, &id, json!({"incr": true})).await?;
    run(&server, &id, json!({"read": "counter"})).await?;
    assert_eq!(var(&server, &id, "readValue").await?["data"], 1);
    assert_eq!(ep.seen.calls("vars:counter"), 1, "asked once: by `incr`, before the instance held it");
    assert_eq!(ep.seen.calls("vars:price"), 1);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_get_var_url_a_missing_variable_is_absent_and_bad_urls_are_refused() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let bin: Value = upload_bin(&server, "").await?.json().await?;
    assert!(bin["manifest"].get("getVarUrl").is_none(), "{bin}");
    let created: Value = server
        .as_app(Method::POST, "/v1/instances")
        .json(&json!({"binId": bin["binId"]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();
    run(&server, &id, json!({"read": "price"})).await?;
    assert_eq!(var(&server, &id, "readAbsent").await?["data"], "price");

    for bad in ["ftp://example.com/vars", "not a url", "http://"] {
        let refused = upload_bin(&server, &format!("?getVarUrl={}", bad.replace(' ', "%20"))).await?;
        assert_eq!(refused.status(), 400, "{bad}");
        let body: Value = refused.json().await?;
        assert!(body["message"].as_str().unwrap_or_default().contains("getVarUrl"), "{body}");
    }
    let function = server
        .as_app(Method::POST, "/v1/functions?name=f&get_var_url=http://127.0.0.1:1/vars")
        .header("content-type", "application/wasm")
        .body(cloudexec_tests::guest_bytes("hello")?)
        .send()
        .await?;
    assert_eq!(function.status(), 400, "a function has no getVarUrl");
    server.stop().await?;
    Ok(())
}
