//! The HTTP layer without a socket: requests go straight into the router (`oneshot`, as
//! axum's `examples/testing` does), so auth, error mapping and paging are checked on the
//! handlers themselves, quickly and with no port.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::server::{ADMIN_TOKEN, APP_TOKEN, config};
use cloudexec::server::Server;

/// Sends one request to a fresh router of `server`; the status and the JSON body.
async fn call(server: &Server, method: Method, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body.to_string())).expect("a request");
    let response = server.router().oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn open() -> anyhow::Result<(tempfile::TempDir, Server)> {
    let dir = tempfile::tempdir()?;
    let server = Server::open(config(dir.path())).await?;
    Ok((dir, server))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_decide_who_gets_in() -> anyhow::Result<()> {
    let (_dir, server) = open().await?;
    let (status, body) = call(&server, Method::GET, "/v1/functions", None, "").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("Unauthorized")), "{body}");
    let (status, _) = call(&server, Method::GET, "/v1/functions", Some("cx_not-a-real-token-000000000"), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = call(&server, Method::GET, "/v1/apps", Some(APP_TOKEN), "").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("AccessDenied")), "{body}");
    let (status, body) = call(&server, Method::GET, "/v1/apps", Some(ADMIN_TOKEN), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(&server, Method::GET, "/v1/functions", Some(APP_TOKEN), "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&server, Method::GET, "/metrics", Some(APP_TOKEN), "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "metrics are the admin's");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_their_status_and_code() -> anyhow::Result<()> {
    let (_dir, server) = open().await?;
    let app = Some(APP_TOKEN);
    let cases: [(Method, &str, &str, StatusCode, &str); 5] = [
        (Method::GET, "/v1/functions/nope", "", StatusCode::NOT_FOUND, "FunctionNotExists"),
        (Method::POST, "/v1/flows", "{not json", StatusCode::BAD_REQUEST, "InvalidArgument"),
        (Method::GET, "/v1/jobs/not-a-number", "", StatusCode::BAD_REQUEST, "InvalidArgument"),
        (Method::GET, "/v1/no-such-route", "", StatusCode::NOT_FOUND, "NotFound"),
        (Method::PATCH, "/v1/flows", "{}", StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
    ];
    for (method, path, body, status, code) in cases {
        let (got, answer) = call(&server, method.clone(), path, app, body).await;
        assert_eq!((got, answer["code"].as_str()), (status, Some(code)), "{method} {path}: {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{method} {path}: {answer}");
    }
    // A service category other than 0 (static) or 1 (dynamic) is refused, naming both.
    let publish = json!({"alias": "svc", "category": 7, "binId": "b"}).to_string();
    let (status, body) = call(&server, Method::POST, "/v1/services", app, &publish).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("InvalidArgument")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("0 is a static flow")), "{body}");
    // A name taken is a conflict named after what was taken.
    let flow = json!({"name": "twice", "definition": "dagName: twice\ntasks:\n  - {name: p, category: pass}\n"});
    let (status, _) = call(&server, Method::POST, "/v1/flows", app, &flow.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = call(&server, Method::POST, "/v1/flows", app, &flow.to_string()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("FlowAlreadyExists")), "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_page_by_limit_and_offset() -> anyhow::Result<()> {
    let (_dir, server) = open().await?;
    let app = Some(APP_TOKEN);
    for name in ["a", "b", "c"] {
        let flow =
            json!({"name": name, "definition": format!("dagName: {name}\ntasks:\n  - {{name: p, category: pass}}\n")});
        let (status, body) = call(&server, Method::POST, "/v1/flows", app, &flow.to_string()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let names = |page: &Value| -> Vec<String> {
        page["items"].as_array().into_iter().flatten().filter_map(|f| f["name"].as_str().map(String::from)).collect()
    };
    let (_, first) = call(&server, Method::GET, "/v1/flows?limit=2", app, "").await;
    assert_eq!(
        (names(&first), first["total"].as_i64(), first["limit"].as_i64()),
        (vec!["a".into(), "b".into()], Some(3), Some(2))
    );
    let (_, rest) = call(&server, Method::GET, "/v1/flows?limit=2&offset=2", app, "").await;
    assert_eq!((names(&rest), rest["offset"].as_i64()), (vec!["c".to_string()], Some(2)));
    for bad in ["limit=0", "limit=1001", "offset=-1", "limit=x"] {
        let (status, body) = call(&server, Method::GET, &format!("/v1/flows?{bad}"), app, "").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("InvalidArgument")),
            "{bad}: {body}"
        );
    }
    Ok(())
}
