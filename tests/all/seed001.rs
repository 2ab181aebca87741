//! Seed 001's cloud-function API (`/userve/v1.3/cloud-function/`) over a real server:
//! what a client written against the seed's document checks, status codes and field
//! names byte for byte.

use base64::Engine as _;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::server::TestServer;

const BASE: &str = "/userve/v1.3/cloud-function/";

/// The seed's function object, sorted.
const FUNCTION_FIELDS: [&str; 10] = [
    "audit_status",
    "created_at",
    "created_by",
    "function_code",
    "id",
    "name",
    "plan_circle",
    "remark",
    "updated_at",
    "updated_by",
];

/// The seed's job object (its table plus `started_at` from its example), sorted.
const JOB_FIELDS: [&str; 9] =
    ["created_at", "finished_at", "id", "mem_usage", "service_type", "source", "started_at", "status", "user_log_url"];

const META_FIELDS: [&str; 5] = ["limit", "next", "offset", "previous", "total_count"];

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

fn code_of(guest: &str) -> anyhow::Result<String> {
    Ok(base64::engine::general_purpose::STANDARD.encode(cloudexec_tests::guest_bytes(guest)?))
}

async fn create(server: &TestServer, name: &str, guest: &str) -> anyhow::Result<Response> {
    let body = json!({"name": name, "function_code": code_of(guest)?, "remark": "你好,云函数"});
    Ok(server.as_app(Method::POST, BASE).json(&body).send().await?)
}

async fn get_json(server: &TestServer, path: &str) -> anyhow::Result<Value> {
    let response = server.as_app(Method::GET, path).send().await?;
    anyhow::ensure!(response.status() == 200, "GET {path} answered {}", response.status());
    Ok(response.json().await?)
}

async fn trigger(server: &TestServer, name: &str, body: Value) -> anyhow::Result<Response> {
    Ok(server.as_app(Method::POST, &format!("{BASE}{name}/job/")).json(&body).send().await?)
}

async fn patch(server: &TestServer, name: &str, body: Value) -> anyhow::Result<Response> {
    Ok(server.as_app(Method::PATCH, &format!("{BASE}{name}/")).json(&body).send().await?)
}

async fn native_version(server: &TestServer, name: &str) -> anyhow::Result<Value> {
    Ok(get_json(server, &format!("/v1/functions/{name}")).await?["version"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_lives_through_create_get_list_patch_and_delete() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let created = create(&server, "hello", "hello").await?;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await?;
    assert_eq!(keys(&created), FUNCTION_FIELDS);
    assert_eq!(created["name"], "hello");
    assert_eq!(created["remark"], "你好,云函数");
    assert_eq!(created["plan_circle"], "P_FREE");
    assert_eq!(created["audit_status"], "approved");
    assert!(created["id"].is_i64() && created["created_at"].is_i64() && created["updated_at"].is_i64());

    assert_eq!(get_json(&server, &format!("{BASE}hello/")).await?, created);
    assert_eq!(get_json(&server, &format!("{BASE}hello")).await?, created);
    let list = get_json(&server, BASE).await?;
    assert_eq!(keys(&list), ["meta", "objects"]);
    assert_eq!(list["meta"], json!({"limit": 20, "next": null, "offset": 0, "previous": null, "total_count": 1}));
    assert_eq!(list["objects"], json!([created]));
    assert_eq!(get_json(&server, "/userve/v1.3/cloud-function").await?["meta"]["total_count"], 1);

    let renamed = patch(&server, "hello", json!({"remark": "changed"})).await?;
    assert_eq!(renamed.status(), 202);
    let renamed: Value = renamed.json().await?;
    assert_eq!(keys(&renamed), FUNCTION_FIELDS);
    assert_eq!(renamed["remark"], "changed");
    assert_eq!(native_version(&server, "hello").await?, 1);

    let body = json!({"function_code": code_of("hostile")?, "plan_circle": "P_PERSONAL"});
    let recoded: Value = patch(&server, "hello", body).await?.json().await?;
    assert_eq!(recoded["plan_circle"], "P_PERSONAL");
    assert_ne!(recoded["function_code"], created["function_code"]);
    assert_eq!(native_version(&server, "hello").await?, 2);
    // A client may PATCH back the object it read: its `function_code` keeps the code.
    let same = patch(&server, "hello", recoded.clone()).await?;
    assert_eq!(same.status(), 202);
    assert_eq!(native_version(&server, "hello").await?, 2);

    for bad in [json!({"plan_circle": "P_HUGE"}), json!({"name": ""}), json!({"function_code": ""})] {
        assert_eq!(patch(&server, "hello", bad).await?.status(), 400);
    }
    assert_eq!(patch(&server, "missing", json!({"remark": "x"})).await?.status(), 404);

    let moved = patch(&server, "hello", json!({"name": "greeter"})).await?;
    assert_eq!(moved.status(), 202);
    assert_eq!(server.as_app(Method::GET, &format!("{BASE}hello/")).send().await?.status(), 404);
    assert_eq!(get_json(&server, &format!("{BASE}greeter/")).await?["name"], "greeter");

    let deleted = server.as_app(Method::DELETE, &format!("{BASE}greeter/")).send().await?;
    assert_eq!(deleted.status(), 204);
    assert!(deleted.bytes().await?.is_empty());
    assert_eq!(server.as_app(Method::GET, &format!("{BASE}greeter/")).send().await?.status(), 404);
    assert_eq!(server.as_app(Method::DELETE, &format!("{BASE}greeter/")).send().await?.status(), 404);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_list_pages_with_next_and_previous_links() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    for name in ["f1", "f2", "f3"] {
        assert_eq!(create(&server, name, "hello").await?.status(), 201);
    }
    let first = get_json(&server, &format!("{BASE}?limit=2")).await?;
    let expected = json!({"limit": 2, "next": format!("{BASE}?limit=2&offset=2"), "offset": 0, "previous": null, "total_count": 3});
    assert_eq!(first["meta"], expected);
    assert_eq!(first["objects"].as_array().map(Vec::len), Some(2));
    let last = get_json(&server, &format!("{BASE}?limit=2&offset=2")).await?;
    assert_eq!(last["meta"]["next"], Value::Null);
    assert_eq!(last["meta"]["previous"], format!("{BASE}?limit=2&offset=0"));
    assert_eq!(last["objects"].as_array().map(Vec::len), Some(1));
    assert_eq!(server.as_app(Method::GET, &format!("{BASE}?limit=x")).send().await?.status(), 400);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_jobs_answer_code_zero_and_async_jobs_answer_ok_then_run() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    assert_eq!(create(&server, "hello", "hello").await?.status(), 201);
    let sync = trigger(&server, "hello", json!({"data": {"name": "Ada"}, "sync": true})).await?;
    assert_eq!(sync.status(), 200);
    assert_eq!(sync.json::<Value>().await?, json!({"code": 0, "data": {"greeting": "Hello, Ada!"}, "error": {}}));
    // `sync` defaults to true.
    let default: Value = trigger(&server, "hello", json!({"data": {}})).await?.json().await?;
    assert_eq!(default, json!({"code": 0, "data": {"greeting": "Hello, world!"}, "error": {}}));

    let accepted = trigger(&server, "hello", json!({"data": {"name": "Bee"}, "sync": false})).await?;
    assert_eq!(accepted.status(), 200);
    let id: i64 =
        accepted.headers().get("x-cloudexec-job-id").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(-1);
    assert_eq!(accepted.json::<Value>().await?, json!({"status": "ok"}));
    assert_eq!(server.wait_for_job(id).await?["status"], "fulfilled");

    let batch = get_json(&server, &format!("{BASE}hello/job/?service_type=batch")).await?;
    assert_eq!(batch["meta"]["total_count"], 1);
    let job = &batch["objects"][0];
    assert_eq!(
        (job["id"].as_i64(), &job["status"], &job["source"]),
        (Some(id), &json!("fulfilled"), &json!("open_api"))
    );
    assert_eq!(trigger(&server, "hello", json!({"sync": true})).await?.status(), 400);
    assert_eq!(trigger(&server, "nobody", json!({"data": {}})).await?.status(), 404);
    assert_eq!(trigger(&server, "hello", json!({"data": [1, 2]})).await?.status(), 400);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_lists_filter_page_keep_filters_in_links_and_link_to_logs() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    assert_eq!(create(&server, "hello", "hello").await?.status(), 201);
    for name in ["s0", "s1", "s2"] {
        assert_eq!(trigger(&server, "hello", json!({"data": {"name": name}})).await?.status(), 200);
    }
    for name in ["a0", "a1"] {
        let accepted = trigger(&server, "hello", json!({"data": {"name": name}, "sync": false})).await?;
        let id = accepted.headers().get("x-cloudexec-job-id").and_then(|v| v.to_str().ok()?.parse().ok());
        server.wait_for_job(id.unwrap_or(-1)).await?;
    }
    let jobs = format!("{BASE}hello/job/");
    let first = get_json(&server, &format!("{jobs}?limit=2")).await?;
    assert_eq!(keys(&first["meta"]), META_FIELDS);
    let expected = json!({"limit": 2, "next": format!("{jobs}?limit=2&offset=2"), "offset": 0, "previous": null, "total_count": 5});
    assert_eq!(first["meta"], expected);
    let middle = get_json(&server, &format!("{jobs}?limit=2&offset=2")).await?["meta"].clone();
    assert_eq!(
        (&middle["next"], &middle["previous"]),
        (&json!(format!("{jobs}?limit=2&offset=4")), &json!(format!("{jobs}?limit=2&offset=0")))
    );
    let last = get_json(&server, &format!("{jobs}?limit=2&offset=4")).await?;
    assert_eq!(
        (&last["meta"]["next"], &last["meta"]["previous"]),
        (&Value::Null, &json!(format!("{jobs}?limit=2&offset=2")))
    );
    assert_eq!(last["objects"].as_array().map(Vec::len), Some(1));

    for job in get_json(&server, &jobs).await?["objects"].as_array().into_iter().flatten() {
        assert_eq!(keys(job), JOB_FIELDS);
        assert!(job["created_at"].is_f64() && job["started_at"].is_f64() && job["finished_at"].is_f64());
        assert!(job["mem_usage"].as_i64() > Some(0));
    }
    let counts = [
        ("status=fulfilled", 5),
        ("status=execution_failed", 0),
        ("service_type=batch", 2),
        ("service_type=time_sensitive", 3),
        ("source=open_api", 5),
        ("source=sdk", 0),
    ];
    for (filter, count) in counts {
        assert_eq!(get_json(&server, &format!("{jobs}?{filter}")).await?["meta"]["total_count"], count, "{filter}");
    }
    let filtered = get_json(&server, &format!("{jobs}?limit=2&service_type=time_sensitive&status=fulfilled")).await?;
    assert_eq!(
        filtered["meta"]["next"],
        format!("{jobs}?limit=2&offset=2&status=fulfilled&service_type=time_sensitive")
    );
    for bad in ["status=done", "service_type=fast", "source=nowhere", "limit=0"] {
        assert_eq!(server.as_app(Method::GET, &format!("{jobs}?{bad}")).send().await?.status(), 400, "{bad}");
    }

    let oldest = &get_json(&server, &format!("{jobs}?service_type=time_sensitive&offset=2")).await?["objects"][0];
    let url = oldest["user_log_url"].as_str().unwrap_or_default();
    assert!(url.starts_with(&format!("{}{jobs}", server.base)), "{url}");
    // The seed's link is pre-signed: fetched with no credentials at all.
    let log = server.client.get(url).send().await?;
    assert_eq!(log.status(), 200);
    assert!(log.headers()["content-type"].to_str()?.starts_with("text/plain"));
    assert_eq!(log.text().await?, "[INFO] greeting s0\n");
    let unsigned = url.split('?').next().unwrap_or_default();
    assert_eq!(server.client.get(unsigned).send().await?.status(), 401, "without its signature it needs a token");
    let with_token = server.client.get(unsigned).bearer_auth(crate::server::APP_TOKEN).send().await?;
    assert_eq!(with_token.text().await?, "[INFO] greeting s0\n");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_guest_gets_the_failure_shape_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    assert_eq!(create(&server, "hostile", "hostile").await?.status(), 201);
    let failed = trigger(&server, "hostile", json!({"data": {"action": "error"}})).await?;
    assert_eq!(failed.status(), 200);
    let failed: Value = failed.json().await?;
    assert_eq!(keys(&failed), ["code", "data", "error"]);
    assert_ne!(failed["code"], 0);
    assert!(failed["code"].is_i64());
    assert_eq!(failed["error"]["code"], "Boom");
    assert_eq!(failed["error"]["status"], "execution_failed");
    assert!(failed["error"]["message"].as_str().unwrap_or_default().contains("guest chose to fail"), "{failed}");

    let panicked = trigger(&server, "hostile", json!({"data": {"action": "panic"}})).await?;
    assert_eq!(panicked.status(), 200);
    assert_ne!(panicked.json::<Value>().await?["code"], 0);
    let echoed: Value = trigger(&server, "hostile", json!({"data": {"action": "echo"}})).await?.json().await?;
    assert_eq!(echoed, json!({"code": 0, "data": {"action": "echo"}, "error": {}}));
    let failures = get_json(&server, &format!("{BASE}hostile/job/?status=execution_failed")).await?;
    assert_eq!(failures["meta"]["total_count"], 2);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_code_or_fields_are_400_and_nothing_is_stored() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let not_wasm = base64::engine::general_purpose::STANDARD.encode(b"exports.main = function () {}");
    let bodies = [
        json!({"name": "f", "function_code": "%%% not base64 %%%"}),
        json!({"name": "f", "function_code": not_wasm}),
        json!({"name": "", "function_code": code_of("hello")?}),
        json!({"name": "f", "function_code": ""}),
        json!({"name": "f"}),
        json!({"name": "f", "function_code": code_of("hello")?, "plan_circle": "P_GOLD"}),
    ];
    for body in bodies {
        let response = server.as_app(Method::POST, BASE).json(&body).send().await?;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await?;
        assert_eq!(keys(&error), ["code", "data", "error"], "the seed's failed-call envelope");
        assert_eq!((error["code"].clone(), keys(&error["error"])), (json!(1), vec!["code".into(), "message".into()]));
    }
    let broken = server.as_app(Method::POST, BASE).header("content-type", "application/json").body("{").send().await?;
    assert_eq!(broken.status(), 400);
    let list = get_json(&server, BASE).await?;
    assert_eq!(list["meta"]["total_count"], 0);
    assert_eq!(list["objects"], json!([]));
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_apps_token_gets_404_and_no_token_gets_401() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    assert_eq!(create(&server, "hello", "hello").await?.status(), 201);
    assert_eq!(trigger(&server, "hello", json!({"data": {}})).await?.status(), 200);
    let job_id = get_json(&server, &format!("{BASE}hello/job/")).await?["objects"][0]["id"].clone();
    let (_, other) = server.new_app("b").await?;
    let routes = [
        (Method::GET, format!("{BASE}hello/")),
        (Method::PATCH, format!("{BASE}hello/")),
        (Method::DELETE, format!("{BASE}hello/")),
        (Method::POST, format!("{BASE}hello/job/")),
        (Method::GET, format!("{BASE}hello/job/")),
        (Method::GET, format!("{BASE}hello/job/{job_id}/log/")),
    ];
    for (method, path) in &routes {
        let body = json!({"data": {}, "remark": "stolen"});
        let response = server.with_token(&other, method.clone(), path).json(&body).send().await?;
        assert_eq!(response.status(), 404, "{method} {path}");
        let response = server.client.request(method.clone(), server.url(path)).json(&body).send().await?;
        assert_eq!(response.status(), 401, "{method} {path} without a token");
        let error: Value = response.json().await?;
        assert_eq!(error["error"]["code"], "Unauthorized", "{error}");
    }
    assert_eq!(create(&server, "twin", "hello").await?.status(), 201);
    for path in [
        format!("{BASE}twin/job/{job_id}/log/"),
        format!("{BASE}hello/job/999999/log/"),
        format!("{BASE}hello/job/x/log/"),
    ] {
        assert_eq!(server.as_app(Method::GET, &path).send().await?.status(), 404, "{path}");
    }
    let theirs: Value = server.with_token(&other, Method::GET, BASE).send().await?.json().await?;
    assert_eq!(theirs["meta"]["total_count"], 0);
    assert_eq!(server.client.get(server.url(BASE)).send().await?.status(), 401);
    let ours = get_json(&server, &format!("{BASE}hello/")).await?;
    assert_eq!(ours["remark"], "你好,云函数");
    server.stop().await?;
    Ok(())
}
