//! The native function API over a real server: lifecycle, uploads in three shapes,
//! validation, and that a rejected upload stores nothing.

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::server::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_lives_through_create_get_list_update_and_delete() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let created = server.deploy("hello", "hello").await?;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await?;
    assert_eq!(body["name"], "hello");
    assert_eq!(body["version"], 1);
    assert_eq!(body["plan"], "P_FREE");
    assert_eq!(body["sync_timeout_ms"], 5000);
    assert_eq!(body["async_timeout_ms"], 300000);

    let got: Value = server.as_app(Method::GET, "/v1/functions/hello").send().await?.json().await?;
    assert_eq!(got["module_sha256"], body["module_sha256"]);

    let list: Value = server.as_app(Method::GET, "/v1/functions").send().await?.json().await?;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["name"], "hello");

    let renamed = server
        .as_app(Method::PATCH, "/v1/functions/hello")
        .json(&json!({"remark": "greets", "plan": "P_PERSONAL"}))
        .send()
        .await?;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await?;
    assert_eq!(
        (renamed["remark"].clone(), renamed["plan"].clone(), renamed["version"].clone()),
        (json!("greets"), json!("P_PERSONAL"), json!(1))
    );

    let new_code = base64::engine::general_purpose::STANDARD.encode(cloudexec_tests::guest_bytes("flow-start-node")?);
    let updated: Value = server
        .as_app(Method::PATCH, "/v1/functions/hello")
        .json(&json!({"wasm_base64": new_code}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(updated["version"], 2, "new code is a new version");
    assert_ne!(updated["module_sha256"], body["module_sha256"]);
    let out: Value = server
        .as_app(Method::POST, "/v1/functions/hello/invoke")
        .json(&json!({"left": 1, "right": 2}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(out["output"], json!({"result_number": 3}));
    assert_eq!(out["version"], 2);

    assert_eq!(server.as_app(Method::DELETE, "/v1/functions/hello").send().await?.status(), 204);
    let gone = server.as_app(Method::GET, "/v1/functions/hello").send().await?;
    assert_eq!(gone.status(), 404);
    let gone: Value = gone.json().await?;
    assert_eq!(gone["code"], "FunctionNotExists");
    assert_eq!(server.as_app(Method::DELETE, "/v1/functions/hello").send().await?.status(), 404);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_work_as_raw_wasm_multipart_and_base64_json() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let wasm = cloudexec_tests::guest_bytes("hello")?;
    let form = reqwest::multipart::Form::new()
        .text("name", "multi")
        .text("remark", "from a form")
        .part("wasm", reqwest::multipart::Part::bytes(wasm.clone()).file_name("hello.wasm"));
    let multi = server.as_app(Method::POST, "/v1/functions").multipart(form).send().await?;
    assert_eq!(multi.status(), 201);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&wasm);
    let json_upload = server
        .as_app(Method::POST, "/v1/functions")
        .json(&json!({"name": "json", "wasm_base64": b64, "sync_timeout_ms": 1000}))
        .send()
        .await?;
    assert_eq!(json_upload.status(), 201);
    assert_eq!(server.deploy("raw", "hello").await?.status(), 201);
    let list: Value = server.as_app(Method::GET, "/v1/functions").send().await?.json().await?;
    let names: Vec<&str> = list["items"].as_array().into_iter().flatten().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names, ["json", "multi", "raw"]);
    let shas: Vec<&Value> = list["items"].as_array().into_iter().flatten().map(|f| &f["module_sha256"]).collect();
    assert!(shas.windows(2).all(|w| w[0] == w[1]), "identical code is one module");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_uploads_are_400_and_store_nothing() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let junk = server
        .as_app(Method::POST, "/v1/functions?name=junk")
        .header("content-type", "application/wasm")
        .body("definitely not wasm")
        .send()
        .await?;
    assert_eq!(junk.status(), 400);
    let junk: Value = junk.json().await?;
    assert_eq!(junk["code"], "InvalidArgument");
    assert!(junk["message"].as_str().unwrap_or_default().contains("invalid module"), "{junk}");

    let core = wat::parse_str("(module)")?;
    let core_module = server
        .as_app(Method::POST, "/v1/functions?name=core")
        .header("content-type", "application/wasm")
        .body(core)
        .send()
        .await?;
    assert_eq!(core_module.status(), 400);
    let bin_as_function = server.deploy("shop", "shop").await?;
    assert_eq!(bin_as_function.status(), 400);
    let bad_name = server.deploy("no%20spaces", "hello").await?;
    assert_eq!(bad_name.status(), 400);
    let bad_plan = server
        .as_app(Method::POST, "/v1/functions")
        .json(&json!({"name": "p", "plan": "P_HUGE", "wasm_base64": ""}))
        .send()
        .await?;
    assert_eq!(bad_plan.status(), 400);
    let bad_b64 =
        server.as_app(Method::POST, "/v1/functions").json(&json!({"name": "b", "wasm_base64": "!!!"})).send().await?;
    assert_eq!(bad_b64.status(), 400);
    let unknown_field =
        server.as_app(Method::POST, "/v1/functions").json(&json!({"name": "u", "wasm": 1})).send().await?;
    assert_eq!(unknown_field.status(), 400);
    let malformed = server
        .as_app(Method::POST, "/v1/functions")
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await?;
    assert_eq!(malformed.status(), 400);
    let malformed: Value = malformed.json().await?;
    assert!(malformed["message"].as_str().unwrap_or_default().contains("not valid JSON"), "{malformed}");

    let list: Value = server.as_app(Method::GET, "/v1/functions").send().await?.json().await?;
    assert_eq!(list["total"], 0, "nothing was stored: {list}");
    assert_eq!(server.deploy("hello", "hello").await?.status(), 201, "the server still serves");
    let twice = server.deploy("hello", "hello").await?;
    assert_eq!(twice.status(), 409);
    let twice: Value = twice.json().await?;
    assert_eq!(twice["code"], "FunctionAlreadyExists");
    server.stop().await?;
    Ok(())
}
