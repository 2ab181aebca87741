//! Seed 000, section 4: the callbacks the engine layer provides. 4.3: a bin uploaded with
//! a `getVarUrl` reads variables its instance does not hold from there
//! (`GET getVarUrl?instanceId=&varKey=`); an error answer reaches the bin as an error it
//! handles; the answer is not stored in the instance.

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{ADMIN_TOKEN, TestServer};

async fn upload_bin(server: &TestServer, query: &str) -> anyhow::Result<reqwest::Response> {
    let wasm = cloudexec_tests::guest_bytes("hostile-bin")?;
    let path = format!("/v1/bins{query}");
    Ok(server.as_app(Method::POST, &path).header("content-type", "application/wasm").body(wasm).send().await?)
}

/// A new instance of the uploaded `bin` (its upload answer); its id.
async fn instance_of(server: &TestServer, bin: &Value) -> anyhow::Result<String> {
    let body = json!({"binId": bin["binId"]});
    let response = server.as_app(Method::POST, "/v1/instances").json(&body).send().await?.error_for_status()?;
    Ok(response.json::<Value>().await?["executeInstanceId"].as_str().unwrap_or_default().to_string())
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
    let id = instance_of(&server, &bin).await?;

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
    let id = instance_of(&server, &bin).await?;
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

async fn set_var_update_url(server: &TestServer, url: Value) -> anyhow::Result<reqwest::Response> {
    Ok(server.as_app(Method::PUT, "/v1/engine-layer").json(&json!({"varUpdateUrl": url})).send().await?)
}

async fn new_shop_like_instance(server: &TestServer) -> anyhow::Result<String> {
    let bin: Value = upload_bin(server, "").await?.json().await?;
    instance_of(server, &bin).await
}

async fn deliveries(server: &TestServer, id: &str) -> anyhow::Result<Vec<Value>> {
    let list: Value =
        server.as_app(Method::GET, &format!("/v1/instances/{id}/deliveries")).send().await?.json().await?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// Waits (seconds of room) until every delivery of `id` has left `pending`.
async fn settled(server: &TestServer, id: &str) -> anyhow::Result<Vec<Value>> {
    for _ in 0..300 {
        let items = deliveries(server, id).await?;
        if !items.is_empty() && items.iter().all(|d| d["status"] != "pending") {
            return Ok(items);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the deliveries of {id} did not settle: {:?}", deliveries(server, id).await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_variable_changes_reach_the_engine_layer_in_order_and_retry_until_taken() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let url = ep.url("/var-updates/shop?fail_times=2");
    let set = set_var_update_url(&server, json!(url)).await?;
    assert_eq!(set.status(), 200);
    let layer: Value = server.as_app(Method::GET, "/v1/engine-layer").send().await?.json().await?;
    assert_eq!(layer["varUpdateUrl"], url.as_str());

    let id = new_shop_like_instance(&server).await?;
    // `incr` and `echo`-less `bad_transition`: the bin changes `counter` and
    // `transitionErrors`; the update it was sent (`incr`) is not echoed back.
    let report = run(&server, &id, json!({"incr": true, "bad_transition": true})).await?;
    let log = report["log"].as_str().unwrap_or_default();
    assert!(log.contains("2 variable update(s) queued"), "the run's log says so: {report}");

    let items = settled(&server, &id).await?;
    assert_eq!(items.len(), 2, "{items:?}");
    let keys: Vec<&str> = items.iter().rev().filter_map(|d| d["variableKey"].as_str()).collect();
    assert_eq!(keys, ["counter", "transitionErrors"], "one per changed variable, in key order");
    assert!(items.iter().all(|d| d["status"] == "delivered"), "{items:?}");
    let first = items.last().cloned().unwrap_or_default();
    assert_eq!(first["attempts"], 3, "two refusals, then taken: {first}");
    assert!(first["lastError"].as_str().unwrap_or_default().contains("500"), "{first}");

    let taken = ep.seen.sample_calls("/var-updates/shop");
    assert_eq!(taken.len(), 2);
    assert_eq!(
        taken[0]["body"],
        json!({"executeInstanceId": id, "var": {"varPtr": {"variableKey": "counter"}, "object": {"data": 1, "len": 4, "type": 64}}})
    );
    assert_eq!(taken[1]["body"]["var"]["varPtr"]["variableKey"], "transitionErrors");

    // The deliveries did not run the instance: still one run.
    let instance: Value = server.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
    assert_eq!(instance["runs"], 1, "{instance}");

    let metrics = server.with_token(ADMIN_TOKEN, Method::GET, "/metrics").send().await?.text().await?;
    assert!(metrics.contains("cloudexec_var_update_deliveries_total{outcome=\"retried\"} 2"), "{metrics}");
    assert!(metrics.contains("cloudexec_var_update_deliveries_total{outcome=\"delivered\"} 2"), "{metrics}");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_layer_that_refuses_is_given_up_on_and_bad_urls_are_refused() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    for bad in [json!("ftp://x/y"), json!("nope"), json!(7)] {
        let refused = set_var_update_url(&server, bad.clone()).await?;
        assert_eq!(refused.status(), 400, "{bad}");
    }
    let id = new_shop_like_instance(&server).await?;
    run(&server, &id, json!({"incr": true})).await?;
    assert!(deliveries(&server, &id).await?.is_empty(), "no engine layer: nothing queued");

    set_var_update_url(&server, json!(ep.url("/var-updates/refusing?answer=false"))).await?.error_for_status()?;
    run(&server, &id, json!({"incr": true})).await?;
    let items = deliveries(&server, &id).await?;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "pending");
    // A refusal is retried with backoff (1 s, 2 s, ...): seen at least twice, never taken.
    for _ in 0..100 {
        if ep.seen.calls("var-updates:refusing") >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let items = deliveries(&server, &id).await?;
    assert!(items[0]["attempts"].as_i64().unwrap_or_default() >= 2, "{items:?}");
    assert!(items[0]["lastError"].as_str().unwrap_or_default().contains("did not take"), "{items:?}");
    assert!(ep.seen.sample_calls("/var-updates/refusing").is_empty());

    // Unknown instances and another app's are 404, and nothing of theirs is shown.
    let unknown = server.as_app(Method::GET, "/v1/instances/nope/deliveries").send().await?;
    assert_eq!(unknown.status(), 404);
    let (_, other) = server.new_app("other").await?;
    let theirs = server.with_token(&other, Method::GET, &format!("/v1/instances/{id}/deliveries")).send().await?;
    assert_eq!(theirs.status(), 404, "another app's token does not see this instance's deliveries");
    let their_layer: Value = server.with_token(&other, Method::GET, "/v1/engine-layer").send().await?.json().await?;
    assert_eq!(their_layer["varUpdateUrl"], Value::Null, "each app has its own engine layer");

    set_var_update_url(&server, Value::Null).await?.error_for_status()?;
    let layer: Value = server.as_app(Method::GET, "/v1/engine-layer").send().await?.json().await?;
    assert_eq!(layer["varUpdateUrl"], Value::Null);
    server.stop().await?;
    Ok(())
}
