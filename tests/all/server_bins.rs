//! Bins and execution instances over a real server: the shop walks cart → ordered →
//! paid through the app's cloud functions, traps roll back, HTTP-bound keys, concurrent
//! runs, and clear errors for bad input.

use std::io::{Read, Write};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{ADMIN_TOKEN, TestServer};

const KEY: &str = "utcook.jar:com.ut.BuzMethod";

async fn run(server: &TestServer, id: &str, updates: Value) -> anyhow::Result<Value> {
    Ok(server
        .as_app(Method::POST, &format!("/v1/instances/{id}/runs"))
        .json(&updates)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

async fn bind(server: &TestServer, key: &str, target: Value) -> anyhow::Result<()> {
    server.as_app(Method::PUT, &format!("/v1/bindings/{key}")).json(&target).send().await?.error_for_status()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_walks_cart_ordered_paid_through_the_apps_functions() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    for (name, guest, key) in
        [("cart", "shop-cart", "shoppingCart"), ("order", "shop-order", "order"), ("pay", "shop-pay", "payOrder")]
    {
        server.deploy(name, guest).await?.error_for_status()?;
        bind(&server, &format!("{KEY}.{key}"), json!({"function": name})).await?;
    }
    let bin_id = server.upload_bin("shop").await?;
    let created = server.new_instance(&bin_id).await?;
    let functions = &created["appData"]["executionData"]["appFunction"];
    assert_eq!(
        functions[1],
        json!({"functionKey": format!("{KEY}.order"), "functionName": "order", "paramsTypelist": "[string,double]", "returnType": "string"})
    );
    let id = created["executeInstanceId"].as_str().unwrap_or_default().to_string();

    assert_eq!(run(&server, &id, json!({"item": "apple"})).await?["result"], "ok");
    run(&server, &id, json!({"amount": 2.5})).await?;
    let paid = run(
        &server,
        &id,
        json!({"updateVarInfo": {"varList": [{"varPtr": {"variableKey": "pay"}, "object": {"data": true}}]}}),
    )
    .await?;
    assert_eq!(paid["instance"]["stateMachines"]["1"]["current"], "paid", "{paid}");

    let path: Value =
        server.as_app(Method::GET, &format!("/v1/instances/{id}/path?stateMachineNo=1")).send().await?.json().await?;
    let states: Vec<&str> = path["path"].as_array().into_iter().flatten().filter_map(|p| p["state"].as_str()).collect();
    assert_eq!(states, ["cart", "ordered", "paid"]);
    let order_id: Value =
        server.as_app(Method::GET, &format!("/v1/instances/{id}/variables/orderId")).send().await?.json().await?;
    assert_eq!(order_id["object"], json!({"data": "order-apple-250", "len": 15, "type": 66}));

    let called: Value = server.as_app(Method::GET, "/v1/functions/order/jobs?source=bin").send().await?.json().await?;
    assert_eq!(called["total"], 1, "the called function has its own job record");
    assert_eq!(called["items"][0]["input"], json!(["apple", 2.5]));
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_run_commits_nothing_and_a_failing_call_keeps_the_bins_choice() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let id = server.new_instance(&server.upload_bin("hostile-bin").await?).await?["executeInstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let trapped = run(&server, &id, json!({"trap": true})).await?;
    assert_eq!((trapped["result"].clone(), trapped["committed"].clone()), (json!("failed"), json!(false)));
    assert_eq!(trapped["error"]["kind"], "trap");
    let instance: Value = server.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
    assert_eq!(instance["runs"], 0);
    assert_eq!(instance["variables"], json!({}), "not even the update was kept");
    assert_eq!(instance["stateMachines"]["1"]["current"], "a");

    let unbound = run(&server, &id, json!({"echo": "x"})).await?;
    assert_eq!(unbound["result"], "ok");
    let error = unbound["instance"]["variables"]["callError"]["data"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("no function or URL is bound"), "{error}");
    server.stop().await?;
    Ok(())
}

/// A one-shot HTTP endpoint on 127.0.0.1 that answers `body` and hands back the request.
fn endpoint(body: &'static str) -> anyhow::Result<(String, std::thread::JoinHandle<String>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/execute", listener.local_addr()?);
    let handle = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return String::new() };
        let request = read_request(&mut stream);
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes());
        request
    });
    Ok((url, handle))
}

/// Reads one request: its headers and a body of `content-length` bytes.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let text = String::from_utf8_lossy(&data).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return text;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return text,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_bound_to_an_http_endpoint_gets_its_answer_and_an_unreachable_one_an_error() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let id = server.new_instance(&server.upload_bin("hostile-bin").await?).await?["executeInstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (url, request) = endpoint("\"pong from the endpoint\"")?;
    bind(&server, "test.echo", json!({"url": url})).await?;
    let answered = run(&server, &id, json!({"echo": "ping"})).await?;
    assert_eq!(answered["instance"]["variables"]["echoed"]["data"], "pong from the endpoint", "{answered}");
    let request =
        tokio::task::spawn_blocking(move || request.join()).await?.map_err(|_| anyhow::anyhow!("endpoint thread"))?;
    assert!(request.contains(&format!("\"executeInstanceId\":\"{id}\"")), "{request}");
    assert!(
        request.contains("\"functionKey\":\"test.echo\"") && request.contains("\"paramsList\":[{\"data\":\"ping\""),
        "{request}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    bind(&server, "test.echo", json!({"url": format!("http://{closed}/gone")})).await?;
    let unreachable = run(&server, &id, json!({"echo": "again"})).await?;
    assert_eq!(unreachable["result"], "ok");
    let error = unreachable["instance"]["variables"]["callError"]["data"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("POST http://"), "{error}");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_of_one_instance_lose_no_update() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let id = server.new_instance(&server.upload_bin("hostile-bin").await?).await?["executeInstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut runs = Vec::new();
    for _ in 0..100 {
        let request = server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({"incr": 1})).send();
        runs.push(tokio::spawn(request));
    }
    for r in runs {
        assert_eq!(r.await??.status(), 200);
    }
    let instance: Value = server.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
    assert_eq!(instance["variables"]["counter"]["data"], 100);
    assert_eq!(instance["runs"], 100);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bins_ids_and_updates_get_clear_errors_and_change_nothing() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let not_a_bin = server
        .as_app(Method::POST, "/v1/bins")
        .header("content-type", "application/wasm")
        .body(cloudexec_tests::guest_bytes("hello")?)
        .send()
        .await?;
    assert_eq!(not_a_bin.status(), 400);
    let unknown_bin = server.as_app(Method::POST, "/v1/instances").json(&json!({"binId": "nope"})).send().await?;
    assert_eq!(unknown_bin.status(), 404);
    let id = server.new_instance(&server.upload_bin("hostile-bin").await?).await?["executeInstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let malformed = server
        .as_app(Method::POST, &format!("/v1/instances/{id}/runs"))
        .json(&json!({"varList": [{"varPtr": {}}]}))
        .send()
        .await?;
    assert_eq!(malformed.status(), 400);
    let (_, other) = server.new_app("b").await?;
    for (method, path) in [
        (Method::GET, format!("/v1/instances/{id}")),
        (Method::POST, format!("/v1/instances/{id}/runs")),
        (Method::DELETE, format!("/v1/instances/{id}")),
    ] {
        let response = server.with_token(&other, method.clone(), &path).json(&json!({"incr": 1})).send().await?;
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let instance: Value = server.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
    assert_eq!(instance["runs"], 0, "nothing changed: {instance}");
    assert_eq!(server.as_app(Method::DELETE, &format!("/v1/instances/{id}")).send().await?.status(), 204);
    let gone = server.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?;
    assert_eq!(gone.status(), 404);
    let gone: Value = gone.json().await?;
    assert_eq!(gone["code"], "InstanceNotExists");
    assert_eq!(
        server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({})).send().await?.status(),
        404
    );
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_never_answers_times_out_into_an_error_the_bin_handles() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let id = server.new_instance(&server.upload_bin("hostile-bin").await?).await?["executeInstanceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    bind(&server, "test.echo", json!({"url": format!("http://{}/slow", silent.local_addr()?)})).await?;
    let started = std::time::Instant::now();
    let ran = run(&server, &id, json!({"echo": "anyone?"})).await?;
    assert_eq!(ran["result"], "ok", "the bin got an error value, not a trap: {ran}");
    let error = ran["instance"]["variables"]["callError"]["data"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("POST http://"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(6), "bounded by the run's deadline");
    drop(silent);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_of_a_hundred_instances_all_proceed_independently() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let bin_id = server.upload_bin("hostile-bin").await?;
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(server.new_instance(&bin_id).await?["executeInstanceId"].as_str().unwrap_or_default().to_string());
    }
    let mut runs = Vec::new();
    for id in &ids {
        let request = server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({"incr": 1})).send();
        runs.push(tokio::spawn(request));
    }
    for r in runs {
        assert_eq!(r.await??.status(), 200);
    }
    for id in ids.iter().step_by(10) {
        let instance: Value = server.as_app(Method::GET, &format!("/v1/instances/{id}")).send().await?.json().await?;
        assert_eq!(instance["variables"]["counter"]["data"], 1, "{id}");
    }
    server.stop().await?;
    Ok(())
}

/// Bin runs and the functions they call are counted in `/metrics` by caller, and a bin run
/// past the app's rate gets the same 429 as a function call, counted for the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bin_runs_and_their_calls_are_counted_and_throttled_like_function_calls() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("cart", "shop-cart").await?.error_for_status()?;
    bind(&server, &format!("{KEY}.shoppingCart"), json!({"function": "cart"})).await?;
    let bin_id = server.upload_bin("shop").await?;
    let id = server.new_instance(&bin_id).await?["executeInstanceId"].as_str().unwrap_or_default().to_string();
    assert_eq!(run(&server, &id, json!({"item": "apple"})).await?["result"], "ok");

    let metrics = |server: &TestServer| {
        let request = server.with_token(ADMIN_TOKEN, Method::GET, "/metrics").send();
        async move { anyhow::Ok(request.await?.error_for_status()?.text().await?) }
    };
    let text = metrics(&server).await?;
    let counted = |caller: &str| {
        text.lines()
            .any(|l| l.starts_with(&format!("cloudexec_invocations_total{{caller=\"{caller}\"")) && !l.ends_with(" 0"))
    };
    assert!(counted("bin"), "the bin's run is counted: {text}");
    assert!(counted("bin_call"), "the function it called is counted: {text}");

    let limits = json!({"rate_per_sec": 0.001, "burst": 1});
    let app = 1; // the default app, created first
    let put = server.with_token(ADMIN_TOKEN, Method::PUT, &format!("/v1/apps/{app}/limits")).json(&limits);
    put.send().await?.error_for_status()?;
    let statuses = [
        server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({})).send().await?.status(),
        server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({})).send().await?.status(),
    ];
    assert_eq!(statuses.map(|s| s.as_u16()), [200, 429], "one run per 1,000 s after the first");
    let refused: Value =
        server.as_app(Method::POST, &format!("/v1/instances/{id}/runs")).json(&json!({})).send().await?.json().await?;
    assert_eq!(refused["code"], "ResourceThrottled", "{refused}");
    let text = metrics(&server).await?;
    assert!(text.lines().any(|l| l.starts_with(&format!("cloudexec_throttled_total{{app=\"{app}\"}}"))), "{text}");
    server.stop().await?;
    Ok(())
}
