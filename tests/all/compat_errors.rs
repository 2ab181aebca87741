//! Every compat route answers its failures in its own seed's shape, including the ones
//! refused before the seed's code runs: no token, a bad token, a body that is not JSON,
//! a body over the cap, a missing parameter.

use reqwest::Method;
use serde_json::Value;

use crate::server::{TestServer, config};

/// Body cap of the test server, so an oversized body stays small.
const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Seed {
    S000,
    S001,
    S002,
    S003,
    S004,
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// Asserts `body` has the seed's error shape; returns the error's code where it has one.
fn assert_shape(seed: Seed, body: &Value, what: &str) -> String {
    let code = match seed {
        Seed::S000 => {
            assert_eq!(keys(body), ["errmsg"], "{what}: {body}");
            return String::new();
        }
        Seed::S001 => {
            assert_eq!(keys(body), ["code", "data", "error"], "{what}: {body}");
            assert_eq!(body["code"], 1, "{what}: {body}");
            &body["error"]["code"]
        }
        Seed::S002 => {
            assert_eq!(body["ret"], false, "{what}: {body}");
            assert!(body["message"].is_string(), "{what}: {body}");
            &body["code"]
        }
        Seed::S003 => {
            assert_eq!(keys(body), ["Code", "Message", "RequestId"], "{what}: {body}");
            &body["Code"]
        }
        Seed::S004 => {
            assert_eq!(keys(body), ["error_code", "error_msg"], "{what}: {body}");
            &body["error_code"]
        }
    };
    code.as_str().unwrap_or_default().to_string()
}

/// Every authenticated compat route: seed, method, path.
fn routes() -> Vec<(Seed, Method, &'static str)> {
    use Method as M;
    let f = "/userve/v1.3/cloud-function";
    vec![
        (Seed::S000, M::POST, "/instance"),
        (Seed::S000, M::GET, "/instance?executeInstanceId=x"),
        (Seed::S000, M::PUT, "/instance"),
        (Seed::S000, M::DELETE, "/instance?executeInstanceId=x"),
        (Seed::S000, M::GET, "/instance/path?executeInstanceId=x&stateMachineNo=1"),
        (Seed::S000, M::POST, "/serviceDeveloper/publish"),
        (Seed::S000, M::POST, "/serviceDeveloper/revoke"),
        (Seed::S000, M::POST, "/serviceUser/instance/create"),
        (Seed::S000, M::POST, "/serviceUser/flowService/run"),
        (Seed::S000, M::POST, "/serviceUser/serviceUser/dynamicFlow/run"),
        (Seed::S000, M::POST, "/serviceUser/dynamicFlow/run"),
        (Seed::S001, M::POST, f),
        (Seed::S001, M::GET, f),
        (Seed::S001, M::GET, "/userve/v1.3/cloud-function/f/"),
        (Seed::S001, M::PATCH, "/userve/v1.3/cloud-function/f/"),
        (Seed::S001, M::DELETE, "/userve/v1.3/cloud-function/f/"),
        (Seed::S001, M::POST, "/userve/v1.3/cloud-function/f/job/"),
        (Seed::S001, M::GET, "/userve/v1.3/cloud-function/f/job/"),
        (Seed::S001, M::GET, "/userve/v1.3/cloud-function/f/job/1/log/"),
        (Seed::S002, M::POST, "/flow/bg/manage/descriptor/add_descriptor.json?business_id=b&feature_name=f&alias=a"),
        (Seed::S002, M::POST, "/flow/submit.json?descriptor_id=b:f"),
        (Seed::S002, M::POST, "/2/flow/submit.json?descriptor_id=b:f"),
        (Seed::S002, M::GET, "/flow/get.json?execution_id=x"),
        (Seed::S003, M::POST, "/fnf/DescribeFlow"),
        (Seed::S003, M::POST, "/fnf?Action=StartExecution"),
        (Seed::S004, M::POST, "/v2/p1/fgs/workflows/w/sync-executions"),
    ]
}

/// The status the seed gives a refused token.
fn token_status(seed: Seed) -> u16 {
    if seed == Seed::S003 { 403 } else { 401 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_compat_route_refuses_in_its_seeds_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = config(dir.path());
    config.max_body_bytes = MAX_BODY;
    config.max_upload_bytes = MAX_BODY;
    let server = TestServer::start_with(config).await?;
    for (seed, method, path) in routes() {
        let what = format!("{method} {path}");
        let bare = server.client.request(method.clone(), server.url(path)).send().await?;
        assert_eq!(bare.status(), token_status(seed), "{what} without a token");
        let code = assert_shape(seed, &bare.json().await?, &format!("{what} without a token"));
        if seed == Seed::S003 {
            assert_eq!(code, "InvalidAccessKeyID", "{what}: the seed's error table");
        }
        let bad = server.with_token("not-a-token-at-all", method.clone(), path).send().await?;
        assert_eq!(bad.status(), token_status(seed), "{what} with a bad token");
        assert_shape(seed, &bad.json().await?, &format!("{what} with a bad token"));
        if matches!(method, Method::GET | Method::DELETE) {
            continue;
        }
        let broken =
            server.as_app(method.clone(), path).header("content-type", "application/json").body("{").send().await?;
        assert_eq!(broken.status(), 400, "{what} with a body that is not JSON");
        assert_shape(seed, &broken.json().await?, &format!("{what} with a broken body"));
        let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(MAX_BODY + 1));
        let oversized =
            server.as_app(method.clone(), path).header("content-type", "application/json").body(huge).send().await?;
        let expected = if seed == Seed::S003 { 400 } else { 413 };
        assert_eq!(oversized.status(), expected, "{what} with a body over the cap");
        let code = assert_shape(seed, &oversized.json().await?, &format!("{what} oversized"));
        if seed != Seed::S000 {
            assert_eq!(code, "EntityTooLarge", "{what} oversized");
        }
    }

    // A missing parameter, in each seed's shape.
    let missing = [
        (Seed::S000, Method::GET, "/instance"),
        (Seed::S000, Method::GET, "/instance/path"),
        (Seed::S002, Method::GET, "/flow/get.json"),
        (Seed::S003, Method::POST, "/fnf/DescribeFlow"),
    ];
    for (seed, method, path) in missing {
        let request = server.as_app(method.clone(), path);
        let request = if method == Method::POST { request.json(&serde_json::json!({})) } else { request };
        let answer = request.send().await?;
        assert_eq!(answer.status(), 400, "{method} {path} without its parameter");
        assert_shape(seed, &answer.json().await?, &format!("{method} {path} without its parameter"));
    }
    // Native routes keep the native shape.
    let native = server.client.get(server.url("/v1/functions")).send().await?;
    assert_eq!(native.status(), 401);
    assert_eq!(keys(&native.json().await?), ["code", "message"]);
    server.stop().await?;
    Ok(())
}
