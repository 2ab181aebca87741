//! Seed 001 with JavaScript source, through the seed's routes only: a client creates a
//! cloud function with the seed's own `function_code` example, reads it back unchanged,
//! and triggers jobs that run it (sandboxed, in the JavaScript runtime component).

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::server::TestServer;

const BASE: &str = "/userve/v1.3/cloud-function/";

/// The seed's own example, byte for byte.
const SEED_EXAMPLE: &str =
    "exports.main = function functionName(event, callback) {\n callback(null, \"hello world\")\n}";

async fn create(server: &TestServer, name: &str, code: &str) -> anyhow::Result<Response> {
    let body = json!({"name": name, "function_code": code, "remark": "js"});
    Ok(server.as_app(Method::POST, BASE).json(&body).send().await?)
}

async fn trigger(server: &TestServer, name: &str, body: Value) -> anyhow::Result<Value> {
    let answer = server.as_app(Method::POST, &format!("{BASE}{name}/job/")).json(&body).send().await?;
    anyhow::ensure!(answer.status() == 200, "trigger answered {}", answer.status());
    Ok(answer.json().await?)
}

async fn get_json(server: &TestServer, path: &str) -> anyhow::Result<Value> {
    Ok(server.as_app(Method::GET, path).send().await?.json().await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_s_own_javascript_example_is_stored_as_sent_and_answers_hello_world() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let created = create(&server, "test", SEED_EXAMPLE).await?;
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await?["function_code"], SEED_EXAMPLE);
    assert_eq!(get_json(&server, &format!("{BASE}test/")).await?["function_code"], SEED_EXAMPLE);
    assert_eq!(get_json(&server, BASE).await?["objects"][0]["function_code"], SEED_EXAMPLE);

    let sync = trigger(&server, "test", json!({"data": {}, "sync": true})).await?;
    assert_eq!(sync, json!({"code": 0, "data": "hello world", "error": {}}));
    let accepted = server
        .as_app(Method::POST, &format!("{BASE}test/job/"))
        .json(&json!({"data": {}, "sync": false}))
        .send()
        .await?;
    let id: i64 =
        accepted.headers().get("x-cloudexec-job-id").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(-1);
    assert_eq!(accepted.json::<Value>().await?, json!({"status": "ok"}));
    let job = server.wait_for_job(id).await?;
    assert_eq!((job["status"].as_str(), &job["output"]), (Some("fulfilled"), &json!("hello world")), "{job}");

    // The event carries the trigger's data; console lines reach the job's log.
    let echo = "exports.main = async function (event) {\n  console.log('got', event.data);\n  return { twice: event.data.n * 2 };\n}";
    assert_eq!(create(&server, "echo", echo).await?.status(), 201);
    let answer = trigger(&server, "echo", json!({"data": {"n": 21}})).await?;
    assert_eq!(answer, json!({"code": 0, "data": {"twice": 42}, "error": {}}));
    let jobs = get_json(&server, &format!("{BASE}echo/job/")).await?;
    let log_url = jobs["objects"][0]["user_log_url"].as_str().unwrap_or_default().to_string();
    let path = log_url.split_once("://").map_or(log_url.as_str(), |(_, rest)| &rest[rest.find('/').unwrap_or(0)..]);
    let log = server.as_app(Method::GET, path).send().await?.text().await?;
    assert!(log.contains("[INFO] got {\"n\":21}"), "{log}");

    // A PATCH with new source is a new version; the same source again is not.
    let version = |v: Value| v["version"].clone();
    let v2 = "exports.main = (event, callback) => callback(null, 'v2')";
    let patch = |code: &'static str| {
        server.as_app(Method::PATCH, &format!("{BASE}test/")).json(&json!({"function_code": code})).send()
    };
    assert_eq!(patch(v2).await?.status(), 202);
    assert_eq!(version(get_json(&server, "/v1/functions/test").await?), 2);
    assert_eq!(patch(v2).await?.status(), 202);
    assert_eq!(version(get_json(&server, "/v1/functions/test").await?), 2, "the same source is no new version");
    assert_eq!(trigger(&server, "test", json!({"data": {}})).await?["data"], "v2");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_that_throws_loops_or_does_not_parse_fails_clearly() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let throws = "exports.main = function (event, callback) { throw new Error('out of stock') }";
    assert_eq!(create(&server, "throws", throws).await?.status(), 201);
    let failed = trigger(&server, "throws", json!({"data": {}})).await?;
    assert_ne!(failed["code"], 0, "{failed}");
    assert_eq!(
        (failed["error"]["status"].as_str(), failed["error"]["code"].as_str()),
        (Some("execution_failed"), Some("JsError"))
    );
    assert_eq!(failed["error"]["message"], "out of stock", "{failed}");
    let refused = "exports.main = function (event, callback) { callback(new Error('card declined')) }";
    assert_eq!(create(&server, "refuses", refused).await?.status(), 201);
    assert_eq!(trigger(&server, "refuses", json!({"data": {}})).await?["error"]["message"], "card declined");

    let loops = "exports.main = function () { while (true) {} }";
    assert_eq!(create(&server, "loops", loops).await?.status(), 201);
    let stopped = trigger(&server, "loops", json!({"data": {}})).await?;
    assert_eq!(stopped["error"]["status"], "deadline_exceeded", "{stopped}");

    // A syntax error is a 400 at upload naming the line; nothing is stored.
    let broken = "exports.main = function (event, callback) {\n  callback(null, 1\n}";
    let response = create(&server, "broken", broken).await?;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await?;
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("line 3")), "{error}");
    assert_eq!(server.as_app(Method::GET, &format!("{BASE}broken/")).send().await?.status(), 404);
    // The server still answers the others.
    assert_eq!(trigger(&server, "refuses", json!({"data": {}})).await?["error"]["message"], "card declined");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_api_takes_javascript_source_too() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let source = "exports.main = (event, callback) => callback(null, { hi: event.data.name })";
    let created = server
        .as_app(Method::POST, "/v1/functions?name=hi")
        .header("content-type", "application/javascript")
        .body(source)
        .send()
        .await?;
    assert_eq!(created.status(), 201, "{}", created.text().await?);
    let answer: Value = server
        .as_app(Method::POST, "/v1/functions/hi/invoke")
        .json(&json!({"name": "Ada"}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!((answer["status"].as_str(), &answer["output"]), (Some("fulfilled"), &json!({"hi": "Ada"})), "{answer}");
    let json_upload =
        server.as_app(Method::POST, "/v1/functions").json(&json!({"name": "hi2", "javascript": source})).send().await?;
    assert_eq!(json_upload.status(), 201);
    server.stop().await?;
    Ok(())
}
