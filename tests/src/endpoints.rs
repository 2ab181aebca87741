//! Real HTTP task endpoints for flow tests, on 127.0.0.1: adders, a flaky endpoint, a
//! failing one, a slow one that counts concurrency, an async worker that calls back the
//! `X-Callback-Url` it was given, and a sink that records execution callbacks. It runs
//! its own tokio runtime on a thread, so sync and async tests can use it alike.
//!
//! It also stubs Rill Flow's sample executor (`docs/samples/executor/main.py`), which the
//! corpus flows in `tests/corpus/rill-flow/` call as `http://sample-executor:8000/...`:
//! `/greet.json`, `/choice.json`, `/print.json`, `/hello.json`, `/posts.json`,
//! `/executor.json`, `/callback.json` and `/calculate.json`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// What the endpoints saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Calls per key (`/flaky/{key}`, `/slow/{key}`, ...).
    pub calls: Mutex<HashMap<String, u32>>,
    /// Bodies received at `/sink`.
    pub sink: Mutex<Vec<Value>>,
    /// `/slow` calls running now.
    pub running: AtomicUsize,
    /// Most `/slow` calls seen running at once.
    pub max_running: AtomicUsize,
    /// Bodies received by `/async`, with their callback URL.
    pub async_calls: Mutex<Vec<(Value, String)>>,
    /// Sample-executor calls: `{path, query, content_type, mode, body}` each.
    pub sample_calls: Mutex<Vec<Value>>,
}

impl Seen {
    /// Calls seen for `key`.
    pub fn calls(&self, key: &str) -> u32 {
        self.calls.lock().map(|c| c.get(key).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// The sample-executor calls seen at `path` (e.g. `/greet.json`), in order.
    pub fn sample_calls(&self, path: &str) -> Vec<Value> {
        let calls = self.sample_calls.lock().map(|c| c.clone()).unwrap_or_default();
        calls.into_iter().filter(|c| c["path"] == path).collect()
    }

    fn count(&self, key: &str) -> u32 {
        let Ok(mut calls) = self.calls.lock() else { return 0 };
        let n = calls.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }
}

/// The running endpoints.
#[derive(Debug)]
pub struct Endpoints {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// What they saw.
    pub seen: Arc<Seen>,
}

impl Endpoints {
    /// Starts the endpoints on a free port.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0")
    }

    /// Starts the endpoints on `addr`.
    pub fn start_on(addr: &str) -> anyhow::Result<Self> {
        let addr = addr.to_string();
        let seen = Arc::new(Seen::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let state = seen.clone();
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(r) => r,
                Err(e) => return drop(tx.send(Err(e.to_string()))),
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind(&addr).await {
                    Ok(l) => l,
                    Err(e) => return drop(tx.send(Err(e.to_string()))),
                };
                let addr = listener.local_addr().map(|a| a.to_string()).map_err(|e| e.to_string());
                let _ = tx.send(addr);
                let _ = axum::serve(listener, router(state)).await;
            });
        });
        let addr = rx.recv()?.map_err(anyhow::Error::msg)?;
        Ok(Self { base: format!("http://{addr}"), seen })
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn router(seen: Arc<Seen>) -> Router {
    Router::new()
        .route("/start_node", post(start_node))
        .route("/end_node", post(end_node))
        .route("/flaky/{key}", post(flaky))
        .route("/fail", post(fail))
        .route("/slow/{key}", post(slow))
        .route("/async", post(async_task))
        .route("/echo", post(echo))
        .route("/headers", post(headers_seen))
        .route("/redirect", post(redirect))
        .route("/sink", post(sink))
        .route("/greet.json", post(greet))
        .route("/choice.json", post(choice))
        .route("/print.json", post(print))
        .route("/hello.json", get(hello))
        .route("/posts.json", post(posts))
        .route("/executor.json", post(executor))
        .route("/callback.json", post(callback))
        .route("/calculate.json", post(calculate))
        .route("/vars", get(engine_layer_var))
        .route("/var-updates/{key}", post(engine_layer_update))
        .with_state(seen)
}

/// Seed 000's engine layer answering 4.3 (`GET getVarUrl?instanceId=&varKey=`): `price`
/// is `{data: 42, len: 4, type: 64}`, `plain` a bare JSON string, `whoami` the instance
/// id asked for, `broken` a 500, anything else 404 (no such variable). Counted per key.
async fn engine_layer_var(State(seen): State<Arc<Seen>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let key = q.get("varKey").cloned().unwrap_or_default();
    seen.count(&format!("vars:{key}"));
    match key.as_str() {
        "price" => axum::Json(json!({"data": 42, "len": 4, "type": 64})).into_response(),
        "plain" => axum::Json(json!("from the engine layer")).into_response(),
        "whoami" => axum::Json(json!({"data": q.get("instanceId")})).into_response(),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "engine layer down").into_response(),
        _ => (StatusCode::NOT_FOUND, "no such variable").into_response(),
    }
}

/// Seed 000's engine layer taking 4.2's variable updates at `/var-updates/{key}`: the first
/// `fail_times` calls for `key` (default 0) answer 500, then `true`; `?answer=false`
/// refuses every update. Taken updates are kept as sample calls of `/var-updates/{key}`.
async fn engine_layer_update(
    State(seen): State<Arc<Seen>>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let fail_times: u32 = q.get("fail_times").and_then(|v| v.parse().ok()).unwrap_or(0);
    if seen.count(&format!("var-updates:{key}")) <= fail_times {
        return (StatusCode::INTERNAL_SERVER_ERROR, "engine layer down").into_response();
    }
    if q.get("answer").is_some_and(|a| a == "false") {
        return axum::Json(json!(false)).into_response();
    }
    note(&seen, &format!("/var-updates/{key}"), &q, &headers, body.0);
    axum::Json(json!(true)).into_response()
}

fn number(body: &Value, field: &str) -> i64 {
    body[field].as_i64().unwrap_or(0)
}

async fn start_node(body: axum::Json<Value>) -> axum::Json<Value> {
    axum::Json(json!({ "result_number": number(&body, "left") + number(&body, "right") }))
}

async fn end_node(body: axum::Json<Value>) -> Response {
    let (got, expect) = (number(&body, "result_number"), number(&body, "expect_number"));
    if got == expect {
        axum::Json(json!({ "ok": true, "result_number": got })).into_response()
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, format!("mismatch: {got} != {expect}")).into_response()
    }
}

/// Fails (500) the first `fail_times` calls for `key` (default 2), then answers.
async fn flaky(
    State(seen): State<Arc<Seen>>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let fail_times: u32 = q.get("fail_times").and_then(|v| v.parse().ok()).unwrap_or(2);
    let n = seen.count(&key);
    if n <= fail_times {
        return (StatusCode::INTERNAL_SERVER_ERROR, format!("flaky failure {n}")).into_response();
    }
    axum::Json(json!({ "attempts": n, "key": key })).into_response()
}

async fn fail(State(seen): State<Arc<Seen>>) -> Response {
    seen.count("fail");
    (StatusCode::INTERNAL_SERVER_ERROR, "always fails").into_response()
}

/// Sleeps `ms` (default 200), counting concurrency, and answers `{step, n}`.
async fn slow(
    State(seen): State<Arc<Seen>>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: axum::Json<Value>,
) -> axum::Json<Value> {
    let ms: u64 = q.get("ms").and_then(|v| v.parse().ok()).unwrap_or(200);
    let n = seen.count(&key);
    let now = seen.running.fetch_add(1, Ordering::SeqCst) + 1;
    seen.max_running.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    seen.running.fetch_sub(1, Ordering::SeqCst);
    axum::Json(json!({ "step": key, "n": n, "input": body.0 }))
}

/// Accepts the task, then (after `delay_ms`, default 100) POSTs the callback URL with
/// `result_type` (`?result=SUCCESS|FAIL`) and `response: {"doubled": 2 * value}`.
async fn async_task(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: axum::Json<Value>,
) -> Response {
    let Some(callback) = headers.get("x-callback-url").and_then(|v| v.to_str().ok()).map(str::to_string) else {
        return (StatusCode::BAD_REQUEST, "no X-Callback-Url").into_response();
    };
    if let Ok(mut calls) = seen.async_calls.lock() {
        calls.push((body.0.clone(), callback.clone()));
    }
    if q.get("callback").is_some_and(|v| v == "never") {
        return axum::Json(json!({ "accepted": true })).into_response();
    }
    let delay: u64 = q.get("delay_ms").and_then(|v| v.parse().ok()).unwrap_or(100);
    let result = q.get("result").cloned().unwrap_or_else(|| "SUCCESS".into());
    let value = number(&body, "value");
    let passthrough = body["passthrough"].clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let response = if result == "SUCCESS" {
            json!({ "doubled": value * 2 })
        } else {
            json!({ "error": "WorkerFailed", "reason": "the worker gave up" })
        };
        let body = json!({ "result_type": result, "passthrough": passthrough, "response": response });
        let _ = reqwest::Client::new().post(callback).json(&body).send().await;
    });
    axum::Json(json!({ "accepted": true })).into_response()
}

/// `POST /redirect?to=<url>`: a 307 to `to` (the method and body are kept).
async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    let to = q.get("to").cloned().unwrap_or_default();
    (StatusCode::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, to)]).into_response()
}

async fn echo(body: axum::Json<Value>) -> axum::Json<Value> {
    body
}

/// `POST /headers` answers with the request's headers, by lowercase name.
async fn headers_seen(headers: HeaderMap) -> axum::Json<Value> {
    let seen: serde_json::Map<String, Value> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), json!(value.to_str().ok()?))))
        .collect();
    axum::Json(Value::Object(seen))
}

async fn sink(State(seen): State<Arc<Seen>>, body: axum::Json<Value>) -> StatusCode {
    if let Ok(mut sink) = seen.sink.lock() {
        sink.push(body.0);
    }
    StatusCode::OK
}

// Rill Flow's sample executor. Like the original, handlers answer 200 with
// `{"result_type": "FAILED", "error_msg"}` on bad input, and `greet`, `print` and `hello`
// answer a Python set, which FastAPI sends as a JSON array (here in a fixed order).

type Q = Query<HashMap<String, String>>;

fn note(seen: &Seen, path: &str, query: &HashMap<String, String>, headers: &HeaderMap, body: Value) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let call = json!({
        "path": path,
        "query": query,
        "content_type": header("content-type"),
        "mode": header("x-mode"),
        "body": body,
    });
    if let Ok(mut calls) = seen.sample_calls.lock() {
        calls.push(call);
    }
}

fn failed(message: &str) -> axum::Json<Value> {
    axum::Json(json!({ "result_type": "FAILED", "error_msg": message }))
}

/// `POST /greet.json?user=NAME` answers `{"result_type", "SUCCESS", "result", body[NAME]}`.
async fn greet(
    State(seen): State<Arc<Seen>>,
    Query(q): Q,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> axum::Json<Value> {
    note(&seen, "/greet.json", &q, &headers, body.0.clone());
    let Some(user) = q.get("user") else { return failed("params user is null") };
    match body.get(user.as_str()) {
        Some(word) => axum::Json(json!(["result_type", "SUCCESS", "result", word])),
        None => failed("greet processing failed"),
    }
}

/// `POST /choice.json` with `input_num` answers `{"sum": Σ i² for i < input_num}`.
async fn choice(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: axum::Json<Value>) -> axum::Json<Value> {
    note(&seen, "/choice.json", &HashMap::new(), &headers, body.0.clone());
    match body["input_num"].as_i64() {
        Some(n) => axum::Json(json!({ "sum": (0..n).map(|i| i * i).sum::<i64>() })),
        None => failed("choice processing failed"),
    }
}

/// `POST /print.json` with `sum` answers `{"result_type", "SUCCESS", "print_result", sum}`.
async fn print(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: axum::Json<Value>) -> axum::Json<Value> {
    note(&seen, "/print.json", &HashMap::new(), &headers, body.0.clone());
    match body.get("sum") {
        Some(sum) => axum::Json(json!(["result_type", "SUCCESS", "print_result", sum])),
        None => failed("print processing failed"),
    }
}

/// `GET /hello.json?user=NAME` answers `{"result_type", "SUCCESS", "result", "Hello, NAME"}`.
async fn hello(State(seen): State<Arc<Seen>>, Query(q): Q, headers: HeaderMap) -> axum::Json<Value> {
    note(&seen, "/hello.json", &q, &headers, Value::Null);
    match q.get("user") {
        Some(user) => axum::Json(json!(["result_type", "SUCCESS", "result", format!("Hello, {user}")])),
        None => failed("params user is null"),
    }
}

/// `POST /posts.json?user=` with a form body answers `{result_type, result: {content_type,
/// user, form_data}}` (a non-form body gives an empty `form_data`).
async fn posts(
    State(seen): State<Arc<Seen>>,
    Query(q): Q,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> axum::Json<Value> {
    let form = form.map(|f| f.0).unwrap_or_default();
    note(&seen, "/posts.json", &q, &headers, json!(form));
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    axum::Json(json!({
        "result_type": "SUCCESS",
        "result": { "content_type": content_type, "user": q.get("user"), "form_data": form },
    }))
}

/// `POST /executor.json` computes `{"executor_result": segment_item * 10}`: in the answer,
/// or, when called with `X-Mode: async` and an `X-Callback-Url`, through the callback
/// (the answer is then `{"result_type": "SUCCESS"}`). Like main.py, the callback body is
/// the result itself plus `result_type` (no `response` wrapper): Rill Flow takes such a
/// body as the task's output.
async fn executor(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: axum::Json<Value>) -> axum::Json<Value> {
    note(&seen, "/executor.json", &HashMap::new(), &headers, body.0.clone());
    let Some(item) = body["segment_item"].as_i64() else { return failed("Executor processing failed") };
    let result = json!({ "executor_result": item * 10 });
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    match (header("x-mode").as_deref(), header("x-callback-url")) {
        (Some("async"), Some(url)) => {
            tokio::spawn(async move {
                let mut body = result;
                body["result_type"] = json!("SUCCESS");
                let _ = reqwest::Client::new().post(url).json(&body).send().await;
            });
            axum::Json(json!({ "result_type": "SUCCESS" }))
        }
        _ => axum::Json(result),
    }
}

/// `POST /callback.json` answers `{"callback_result": executor_result * 10}`.
async fn callback(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: axum::Json<Value>) -> axum::Json<Value> {
    note(&seen, "/callback.json", &HashMap::new(), &headers, body.0.clone());
    match body["executor_result"].as_i64() {
        Some(n) => axum::Json(json!({ "callback_result": n * 10 })),
        None => failed("callback processing failed"),
    }
}

/// `POST /calculate.json` answers `{"sum": Σ callback_result_list}`.
async fn calculate(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: axum::Json<Value>) -> axum::Json<Value> {
    note(&seen, "/calculate.json", &HashMap::new(), &headers, body.0.clone());
    let list =
        body["callback_result_list"].as_array().and_then(|l| l.iter().map(Value::as_i64).collect::<Option<Vec<_>>>());
    match list {
        Some(list) => axum::Json(json!({ "sum": list.iter().sum::<i64>() })),
        None => failed("calculate processing failed"),
    }
}
