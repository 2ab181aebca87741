//! The routes the console added, when a user gets it wrong: unknown names are 404, bad
//! paging and out-of-range overview parameters are 400 with a message, another app's
//! token sees none of the app's bins, instances, services, function versions or flow
//! outline, and nothing stored changes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::flow_support::create_flow;
use crate::server::TestServer;

const SAMPLE: &str = include_str!("../../examples/flows/sample.yaml");

async fn status_and_body(server: &TestServer, token: Option<&str>, path: &str) -> anyhow::Result<(StatusCode, Value)> {
    let request = match token {
        Some(token) => server.with_token(token, Method::GET, path),
        None => server.as_app(Method::GET, path),
    };
    let response = request.send().await?;
    Ok((response.status(), response.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_routes_answer_bad_requests_clearly_and_keep_apps_apart() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("hello", "hello").await?.error_for_status()?;
    create_flow(&server, "sample", SAMPLE).await?;
    let bin_id = server.upload_bin("shop").await?;
    let made = server.new_instance(&bin_id).await?;
    server
        .as_app(Method::POST, "/v1/services")
        .json(&json!({"alias": "shop", "category": 1, "binId": bin_id}))
        .send()
        .await?
        .error_for_status()?;

    for (path, status, code) in [
        ("/v1/functions/nope/versions", StatusCode::NOT_FOUND, "FunctionNotExists"),
        ("/v1/flows/nope/outline", StatusCode::NOT_FOUND, "FlowNotExists"),
        ("/v1/flows/sample/outline?version=99", StatusCode::NOT_FOUND, "FlowNotExists"),
        ("/v1/overview?since_seconds=0", StatusCode::BAD_REQUEST, "InvalidArgument"),
        ("/v1/overview?since_seconds=90000", StatusCode::BAD_REQUEST, "InvalidArgument"),
        ("/v1/overview?failures=101", StatusCode::BAD_REQUEST, "InvalidArgument"),
        ("/v1/overview?since_seconds=soon", StatusCode::BAD_REQUEST, "InvalidArgument"),
        ("/v1/instances?limit=0", StatusCode::BAD_REQUEST, "InvalidArgument"),
        ("/v1/bins?offset=-1", StatusCode::BAD_REQUEST, "InvalidArgument"),
    ] {
        let (got, body) = status_and_body(&server, None, path).await?;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["code"], code, "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{path} says why: {body}");
    }

    // Another app's token: nothing of app 1 is listed or found.
    let (_, other) = server.new_app("other").await?;
    for path in ["/v1/bins", "/v1/instances", "/v1/services"] {
        let (got, body) = status_and_body(&server, Some(&other), path).await?;
        assert_eq!(got, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["items"], json!([]), "another app lists none of app 1's {path}: {body}");
    }
    let (got, _) = status_and_body(&server, Some(&other), &format!("/v1/instances?binId={bin_id}")).await?;
    assert_eq!(got, StatusCode::OK);
    for path in ["/v1/functions/hello/versions", "/v1/flows/sample/outline"] {
        assert_eq!(status_and_body(&server, Some(&other), path).await?.0, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, overview) = status_and_body(&server, Some(&other), "/v1/overview").await?;
    assert_eq!((overview["scanned"].clone(), overview["jobs_by_status"].clone()), (json!(0), json!({})), "{overview}");

    // App 1 still sees all of it, unchanged.
    let (_, bins) = status_and_body(&server, None, "/v1/bins").await?;
    assert_eq!(bins["total"], 1, "{bins}");
    let (_, instances) = status_and_body(&server, None, &format!("/v1/instances?binId={bin_id}")).await?;
    assert_eq!(instances["items"][0]["executeInstanceId"], made["executeInstanceId"], "{instances}");
    let (_, versions) = status_and_body(&server, None, "/v1/functions/hello/versions").await?;
    assert_eq!(versions["items"].as_array().map(Vec::len), Some(1), "{versions}");
    let (_, outline) = status_and_body(&server, None, "/v1/flows/sample/outline").await?;
    assert_eq!(outline["start"], json!(["startNode"]), "{outline}");
    server.stop().await?;
    Ok(())
}
