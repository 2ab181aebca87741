//! Python and JavaScript guests (built from `examples/python/` and `examples/js/` with
//! componentize-py and componentize-js through the CLI's own build) deployed to a real
//! server: they answer as their Rust twins do, log into the job's log, fail with clear
//! errors, stop at their deadline and memory cap, and a Python bin walks the shop's
//! state machine through the app's Rust and Python functions.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::server::TestServer;
use crate::support::language_guest_bytes;

/// The interpreted languages and the suffix their functions' names get.
const LANGUAGES: [(&str, &str); 2] = [("python", "py"), ("js", "js")];

const KEY: &str = "utcook.jar:com.ut.BuzMethod";

/// Uploads `wasm` as function `name` in JSON (base64: an 18 MB Python component is a
/// 25 MB body, over the ordinary body cap and within the upload cap).
async fn deploy(server: &TestServer, name: &str, wasm: &[u8], settings: Value) -> anyhow::Result<()> {
    let mut body = json!({"name": name, "wasm_base64": base64::engine::general_purpose::STANDARD.encode(wasm)});
    if let (Some(body), Value::Object(settings)) = (body.as_object_mut(), settings) {
        body.extend(settings);
    }
    let response = server.as_app(Method::POST, "/v1/functions").json(&body).send().await?;
    let status = response.status();
    anyhow::ensure!(status == 201, "deploying {name} answered {status}: {}", response.text().await?);
    Ok(())
}

async fn invoke(server: &TestServer, name: &str, input: Value) -> anyhow::Result<Value> {
    let response = server.as_app(Method::POST, &format!("/v1/functions/{name}/invoke")).json(&input).send().await?;
    anyhow::ensure!(response.status() == 200, "invoke answered {}", response.status());
    Ok(response.json().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_js_hello_and_pay_order_answer_as_their_rust_twins() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("hello", "hello").await?.error_for_status()?;
    server.deploy("pay", "shop-pay").await?.error_for_status()?;
    for (lang, suffix) in LANGUAGES {
        deploy(&server, &format!("hello-{suffix}"), &language_guest_bytes(lang, "hello")?, json!({})).await?;
        deploy(&server, &format!("pay-{suffix}"), &language_guest_bytes(lang, "shop-pay")?, json!({})).await?;
    }

    let cases = [
        ("hello", json!({"name": "Ada"})),
        ("hello", json!({})),
        ("hello", json!({"name": null})),
        ("pay", json!(["order-apple-250"])),
        ("pay", json!(["forged"])),
    ];
    for (function, input) in cases {
        let rust = invoke(&server, function, input.clone()).await?;
        assert_eq!(rust["status"], "fulfilled", "{rust}");
        for (_, suffix) in LANGUAGES {
            let twin = invoke(&server, &format!("{function}-{suffix}"), input.clone()).await?;
            assert_eq!(twin["status"], "fulfilled", "{twin}");
            assert_eq!(twin["output"], rust["output"], "{function}-{suffix} on {input}");
        }
    }

    for (_, suffix) in LANGUAGES {
        let accepted: Value = server
            .as_app(Method::POST, &format!("/v1/functions/hello-{suffix}/invoke?async=true"))
            .json(&json!({"name": "Grace"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = accepted["job_id"].as_i64().unwrap_or_default();
        let job = server.wait_for_job(id).await?;
        assert_eq!(job["output"], json!({"greeting": "Hello, Grace!"}), "{job}");
        let log = server.as_app(Method::GET, &format!("/v1/jobs/{id}/log")).send().await?.text().await?;
        assert!(log.contains("[INFO] greeting Grace"), "the SDK's log line is in the {suffix} job log: {log}");
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_and_js_failures_are_clear_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    for (lang, suffix) in LANGUAGES {
        let name = format!("hostile-{suffix}");
        deploy(&server, &name, &language_guest_bytes(lang, "hostile")?, json!({"sync_timeout_ms": 2000})).await?;
        let looped = invoke(&server, &name, json!({"action": "loop"})).await?;
        assert_eq!(looped["status"], "deadline_exceeded", "an infinite {lang} loop stops at its deadline: {looped}");

        // The rest get seconds: the bomb must reach its cap before any deadline.
        let longer = json!({"sync_timeout_ms": 30_000});
        server
            .as_app(Method::PATCH, &format!("/v1/functions/{name}"))
            .json(&longer)
            .send()
            .await?
            .error_for_status()?;
        let bomb = invoke(&server, &name, json!({"action": "bomb"})).await?;
        assert_eq!(bomb["status"], "execution_failed", "{bomb}");
        assert_eq!(bomb["error"]["code"], "MemoryLimitExceeded", "the {lang} out-of-memory error is the cap's: {bomb}");

        let own = invoke(&server, &name, json!({"action": "error"})).await?;
        assert_eq!((own["status"].clone(), own["error"]["code"].clone()), (json!("execution_failed"), json!("Boom")));
        assert_eq!(own["error"]["message"], "guest chose to fail");

        let raised = invoke(&server, &name, json!({"action": "raise"})).await?;
        assert_eq!(raised["status"], "execution_failed", "{raised}");
        assert_eq!(raised["error"]["code"], "Exception");
        let error = if lang == "python" { "ValueError" } else { "TypeError" };
        assert_eq!(raised["error"]["message"], format!("{error}: the input was not to my taste"));
        let id = raised["id"].as_i64().unwrap_or_default();
        let log = server.as_app(Method::GET, &format!("/v1/jobs/{id}/log")).send().await?.text().await?;
        let frame = if lang == "python" { "app.py\", line" } else { "handle@" };
        assert!(log.contains(error) && log.contains(frame), "the {lang} stack is in the job log: {log}");

        let printed = invoke(&server, &name, json!({"action": "print", "n": 3})).await?;
        let id = printed["id"].as_i64().unwrap_or_default();
        let log = server.as_app(Method::GET, &format!("/v1/jobs/{id}/log")).send().await?.text().await?;
        assert!(log.contains("00002 xxxx"), "{lang} stdout is in the job log: {log}");

        let echo = invoke(&server, &name, json!({"action": "echo", "n": 7})).await?;
        assert_eq!(echo["output"], json!({"action": "echo", "n": 7}), "the same {lang} function serves after all that");
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_bin_walks_the_shop_through_rust_and_python_functions() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("cart", "shop-cart").await?.error_for_status()?;
    server.deploy("order", "shop-order").await?.error_for_status()?;
    deploy(&server, "pay-py", &language_guest_bytes("python", "shop-pay")?, json!({})).await?;
    for (key, function) in [("shoppingCart", "cart"), ("order", "order"), ("payOrder", "pay-py")] {
        let target = json!({"function": function});
        server
            .as_app(Method::PUT, &format!("/v1/bindings/{KEY}.{key}"))
            .json(&target)
            .send()
            .await?
            .error_for_status()?;
    }
    let wasm = language_guest_bytes("python", "shop")?;
    let body = json!({"wasm_base64": base64::engine::general_purpose::STANDARD.encode(&wasm)});
    let uploaded = server.as_app(Method::POST, "/v1/bins").json(&body).send().await?;
    anyhow::ensure!(uploaded.status() == 201, "bin upload answered {}", uploaded.status());
    let bin_id = uploaded.json::<Value>().await?["binId"].as_str().unwrap_or_default().to_string();
    let created = server.new_instance(&bin_id).await?;
    let functions = &created["appData"]["executionData"]["appFunction"];
    assert_eq!(
        functions[1],
        json!({"functionKey": format!("{KEY}.order"), "functionName": "order", "paramsTypelist": "[string,double]", "returnType": "string"}),
        "the manifest declared in Python"
    );
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();
    for updates in [json!({"item": "apple"}), json!({"amount": 2.5}), json!({"pay": true})] {
        let run: Value = server
            .as_app(Method::POST, &format!("/v1/instances/{id}/runs"))
            .json(&updates)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        assert_eq!(run["result"], "ok", "{updates}: {run}");
    }
    let path: Value =
        server.as_app(Method::GET, &format!("/v1/instances/{id}/path?stateMachineNo=1")).send().await?.json().await?;
    let states: Vec<&str> = path["path"].as_array().into_iter().flatten().filter_map(|p| p["state"].as_str()).collect();
    assert_eq!(states, ["cart", "ordered", "paid"]);
    for (key, expected) in [
        ("orderId", json!({"data": "order-apple-250", "len": 15, "type": 66})),
        ("paid", json!({"data": true, "len": 1, "type": 1})),
        ("state", json!({"data": "paid", "len": 4, "type": 66})),
    ] {
        let var: Value =
            server.as_app(Method::GET, &format!("/v1/instances/{id}/variables/{key}")).send().await?.json().await?;
        assert_eq!(var["object"], expected, "{key}");
    }
    let paid: Value = server.as_app(Method::GET, "/v1/functions/pay-py/jobs?source=bin").send().await?.json().await?;
    assert_eq!(paid["total"], 1, "the Python payOrder ran once, as the bin's call");
    server.stop().await?;
    Ok(())
}

/// The compiled artifacts in `dir`: name and modification time.
fn artifacts(dir: &std::path::Path) -> anyhow::Result<Vec<(String, std::time::SystemTime)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".cwasm") {
            found.push((name, entry.metadata()?.modified()?));
        }
    }
    found.sort();
    Ok(found)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_component_is_compiled_once_and_its_artifact_serves_after_a_restart() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let mut config = crate::server::config(temp.path());
    let cache = temp.path().join("artifacts");
    config.engine.cache_dir = Some(cache.clone());
    let server = TestServer::start_with(config.clone()).await?;
    deploy(&server, "hello-py", &language_guest_bytes("python", "hello")?, json!({})).await?;
    assert_eq!(invoke(&server, "hello-py", json!({"name": "Ada"})).await?["status"], "fulfilled");
    // A large component runs Winch's code first; Cranelift's is what is kept on disk.
    crate::tiered_compile::wait_optimized(&server, "hello-py").await?;
    let compiled = artifacts(&cache)?;
    assert_eq!(compiled.len(), 1, "one artifact for the one component: {compiled:?}");
    server.stop().await?;

    let again = TestServer::start_with(config).await?;
    let answer = invoke(&again, "hello-py", json!({"name": "again"})).await?;
    assert_eq!(answer["output"], json!({"greeting": "Hello, again!"}), "{answer}");
    assert_eq!(artifacts(&cache)?, compiled, "the restarted server loaded the artifact, it did not compile again");
    again.stop().await?;
    Ok(())
}
