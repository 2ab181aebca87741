//! Jobs over a real server: sync and async invocations, records, logs, filters and
//! paging, hostile guests, body and concurrency limits.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TestServer, config};

async fn list(server: &TestServer, query: &str) -> anyhow::Result<Value> {
    Ok(server.as_app(Method::GET, &format!("/v1/functions/hello/jobs{query}")).send().await?.json().await?)
}

async fn invoke(server: &TestServer, name: &str, input: Value) -> anyhow::Result<Value> {
    let response = server.as_app(Method::POST, &format!("/v1/functions/{name}/invoke")).json(&input).send().await?;
    anyhow::ensure!(response.status() == 200, "invoke answered {}", response.status());
    Ok(response.json().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_async_jobs_are_recorded_with_their_logs() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("hello", "hello").await?.error_for_status()?;
    let job = invoke(&server, "hello", json!({"name": "Ada"})).await?;
    assert_eq!(job["status"], "fulfilled");
    assert_eq!(job["output"], json!({"greeting": "Hello, Ada!"}));
    assert_eq!(job["service_type"], "time_sensitive");
    assert_eq!(job["source"], "open_api");
    assert!(job["mem_usage"].as_i64().unwrap_or_default() > 0);
    assert!(job["finished_at"].as_f64() >= job["started_at"].as_f64());

    let accepted = server
        .as_app(Method::POST, "/v1/functions/hello/invoke?async=true")
        .json(&json!({"name": "Bee"}))
        .send()
        .await?;
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await?;
    let id = accepted["job_id"].as_i64().ok_or_else(|| anyhow::anyhow!("no job id: {accepted}"))?;
    let done = server.wait_for_job(id).await?;
    assert_eq!(done["status"], "fulfilled");
    assert_eq!(done["service_type"], "batch");
    assert_eq!(done["timeout_ms"], 300000);
    assert_eq!(done["output"], json!({"greeting": "Hello, Bee!"}));

    let log = server.as_app(Method::GET, &format!("/v1/jobs/{id}/log")).send().await?.text().await?;
    assert_eq!(log, "[INFO] greeting Bee\n");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_lists_filter_and_page() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("hello", "hello").await?.error_for_status()?;
    for i in 0..3 {
        invoke(&server, "hello", json!({"name": format!("s{i}")})).await?;
    }
    let mut ids = Vec::new();
    for i in 0..2 {
        let accepted: Value = server
            .as_app(Method::POST, "/v1/functions/hello/invoke?async=true")
            .json(&json!({"name": format!("a{i}")}))
            .send()
            .await?
            .json()
            .await?;
        ids.push(accepted["job_id"].as_i64().unwrap_or_default());
    }
    for id in ids {
        server.wait_for_job(id).await?;
    }
    let all = list(&server, "").await?;
    assert_eq!(all["total"], 5);
    let ids: Vec<i64> = all["items"].as_array().into_iter().flatten().filter_map(|j| j["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(list(&server, "?service_type=batch").await?["total"], 2);
    assert_eq!(list(&server, "?service_type=time_sensitive&status=fulfilled").await?["total"], 3);
    assert_eq!(list(&server, "?source=timer").await?["total"], 0);
    let page = list(&server, "?limit=2&offset=4").await?;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["total"], 5);
    let bad = server.as_app(Method::GET, "/v1/functions/hello/jobs?status=sleeping").send().await?;
    assert_eq!(bad.status(), 400);
    let bad_limit = server.as_app(Method::GET, "/v1/functions/hello/jobs?limit=0").send().await?;
    assert_eq!(bad_limit.status(), 400);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_guests_become_failed_jobs_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let b64 =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cloudexec_tests::guest_bytes("hostile")?);
    server
        .as_app(Method::POST, "/v1/functions")
        .json(&json!({"name": "hostile", "wasm_base64": b64, "sync_timeout_ms": 300}))
        .send()
        .await?
        .error_for_status()?;
    server.deploy("hello", "hello").await?.error_for_status()?;

    let looped = invoke(&server, "hostile", json!({"action": "loop"})).await?;
    assert_eq!(looped["status"], "deadline_exceeded");
    assert_eq!(looped["error"]["code"], "DeadlineExceeded");

    // The rest get seconds: a memory bomb must reach its cap before any deadline, however
    // busy the machine is.
    server
        .as_app(Method::PATCH, "/v1/functions/hostile")
        .json(&json!({"sync_timeout_ms": 30_000}))
        .send()
        .await?
        .error_for_status()?;
    let bomb = invoke(&server, "hostile", json!({"action": "bomb"})).await?;
    assert_eq!(bomb["status"], "execution_failed");
    assert_eq!(bomb["error"]["code"], "MemoryLimitExceeded");
    assert!(bomb["error"]["message"].as_str().unwrap_or_default().contains("memory limit exceeded"), "{bomb}");

    let trap = invoke(&server, "hostile", json!({"action": "panic"})).await?;
    assert_eq!(trap["status"], "execution_failed");
    assert_eq!(trap["error"]["code"], "Trap");
    assert!(trap["error"]["message"].as_str().unwrap_or_default().contains("panicked on purpose"), "{trap}");

    let own = invoke(&server, "hostile", json!({"action": "error"})).await?;
    assert_eq!((own["status"].clone(), own["error"]["code"].clone()), (json!("execution_failed"), json!("Boom")));
    assert_eq!(own["error"]["message"], "guest chose to fail", "the guest's own words, not repeated with its code");

    let next = invoke(&server, "hello", json!({"name": "after"})).await?;
    assert_eq!(next["output"], json!({"greeting": "Hello, after!"}));
    let failed: Value =
        server.as_app(Method::GET, "/v1/functions/hostile/jobs?status=execution_failed").send().await?.json().await?;
    assert_eq!(failed["total"], 3);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_functions_and_jobs_are_404_and_bad_bodies_400() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let missing = server.as_app(Method::POST, "/v1/functions/nope/invoke").json(&json!({})).send().await?;
    assert_eq!(missing.status(), 404);
    let missing: Value = missing.json().await?;
    assert_eq!(missing["code"], "FunctionNotExists");
    assert_eq!(server.as_app(Method::GET, "/v1/jobs/999").send().await?.status(), 404);
    assert_eq!(server.as_app(Method::GET, "/v1/jobs/999/log").send().await?.status(), 404);
    server.deploy("hello", "hello").await?.error_for_status()?;
    let malformed = server.as_app(Method::POST, "/v1/functions/hello/invoke").body("{\"name\":").send().await?;
    assert_eq!(malformed.status(), 400);
    let route = server.as_app(Method::GET, "/v1/nothing-here").send().await?;
    assert_eq!(route.status(), 404);
    for path in ["/v1/jobs/not-a-number", "/v1/functions?limit=many", "/v1/functions/hello/jobs?offset=-"] {
        let bad = server.as_app(Method::GET, path).send().await?;
        assert_eq!(bad.status(), 400, "{path}");
        let body: Value = bad.json().await?;
        assert_eq!(body["code"], "InvalidArgument", "{path}: {body}");
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_413_entity_too_large() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let mut cfg = config(temp.path());
    cfg.max_body_bytes = 512 * 1024;
    let server = TestServer::start_with(cfg).await?;
    server.deploy("hello", "hello").await?.error_for_status()?;
    let big = json!({"name": "x".repeat(1024 * 1024)});
    // The server stops reading a refused body and closes the connection; don't reuse it.
    let response = server
        .as_app(Method::POST, "/v1/functions/hello/invoke")
        .header("connection", "close")
        .json(&big)
        .send()
        .await?;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await?;
    assert_eq!(body["code"], "EntityTooLarge");
    let jobs: Value = server.as_app(Method::GET, "/v1/functions/hello/jobs").send().await?.json().await?;
    assert_eq!(jobs["total"], 0, "no job was recorded");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_concurrency_and_queue_limits_calls_get_429_at_once() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let mut cfg = config(temp.path());
    cfg.runner.max_concurrency = 1;
    cfg.runner.max_queue = 0;
    let server = TestServer::start_with(cfg).await?;
    let b64 =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cloudexec_tests::guest_bytes("hostile")?);
    server
        .as_app(Method::POST, "/v1/functions")
        .json(&json!({"name": "hostile", "wasm_base64": b64, "sync_timeout_ms": 8_000}))
        .send()
        .await?
        .error_for_status()?;
    let looping = || {
        tokio::spawn(
            server.as_app(Method::POST, "/v1/functions/hostile/invoke").json(&json!({"action": "loop"})).send(),
        )
    };
    let mut busy = looping();
    // Once the loop holds the only slot, a call is refused (before that, it may be served,
    // or take the slot first and have the loop refused: then the loop is sent again).
    let refused = loop {
        let answer =
            server.as_app(Method::POST, "/v1/functions/hostile/invoke").json(&json!({"action": "echo"})).send().await?;
        if answer.status() == 429 && !busy.is_finished() {
            break answer;
        }
        if busy.is_finished() {
            let ended = busy.await??;
            assert_eq!(ended.status(), 429, "the loop ends only at its 8 s deadline: {}", ended.text().await?);
            busy = looping();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!busy.is_finished(), "refused at once, while the loop still ran");
    let body: Value = refused.json().await?;
    assert_eq!(body["code"], "ResourceThrottled");
    let looped: Value = busy.await??.json().await?;
    assert_eq!(looped["status"], "deadline_exceeded");
    let after =
        server.as_app(Method::POST, "/v1/functions/hostile/invoke").json(&json!({"action": "echo"})).send().await?;
    assert_eq!(after.status(), 200, "capacity is back once the loop ended");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_jobs_past_the_waiting_bound_are_refused_and_the_accepted_ones_run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cfg = config(dir.path());
    (cfg.runner.max_concurrency, cfg.runner.max_waiting_jobs) = (1, 3);
    let server = TestServer::start_with(cfg).await?;
    let upload = server
        .as_app(Method::POST, "/v1/functions?name=spin&async_timeout_ms=10000")
        .header("content-type", "application/wasm")
        .body(cloudexec_tests::guest_bytes("hostile")?);
    assert_eq!(upload.send().await?.status(), 201);
    let submit = |input: Value| server.as_app(Method::POST, "/v1/functions/spin/invoke?async=true").json(&input).send();
    // The one slot spins; three jobs then wait, and a fourth is one too many.
    let spinning: Value = submit(json!({"action": "loop"})).await?.json().await?;
    let spinning = spinning["job_id"].as_i64().unwrap_or_default();
    for _ in 0..200 {
        let job: Value = server.as_app(Method::GET, &format!("/v1/jobs/{spinning}")).send().await?.json().await?;
        if job["status"] == "executing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The bound counts the waiting jobs again at most every 100 ms (and up locally in
    // between): past that, the spinning job no longer counts as waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut accepted = Vec::new();
    for n in 0..3 {
        let answer: Value = submit(json!({"action": "echo", "n": n})).await?.json().await?;
        accepted.push(answer["job_id"].as_i64().unwrap_or_default());
    }
    let refused = submit(json!({"action": "echo", "n": 3})).await?;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await?;
    assert!(body["message"].as_str().is_some_and(|m| m.contains("already waiting")), "{body}");
    for (n, id) in accepted.iter().enumerate() {
        let done = server.wait_for_job(*id).await?;
        assert_eq!((done["status"].as_str(), &done["output"]["n"]), (Some("fulfilled"), &json!(n)), "{done}");
    }
    server.stop().await?;
    Ok(())
}
