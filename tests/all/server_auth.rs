//! Tokens: none is 401, the admin manages apps, and one app never sees another's
//! functions or jobs (404, as if they did not exist).

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{ADMIN_TOKEN, APP_TOKEN, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_are_401() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let none = server.client.get(server.url("/v1/functions")).send().await?;
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await?;
    assert_eq!(body["code"], "Unauthorized");
    let wrong = server.with_token("ce_not_a_real_token_at_all", Method::GET, "/v1/functions").send().await?;
    assert_eq!(wrong.status(), 401);
    let health = server.client.get(server.url("/healthz")).send().await?;
    assert_eq!(health.status(), 200, "health needs no token");
    let health: serde_json::Value = health.json().await?;
    let store = crate::server::store_kind();
    assert_eq!((health["status"].as_str(), health["store"].as_str()), (Some("ok"), Some(store)), "{health}");
    assert!(health["node"].as_str().is_some_and(|n| n.starts_with("node-")), "{health}");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_admin_creates_apps_and_tokens() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let denied = server.as_app(Method::POST, "/v1/apps").json(&json!({"name": "b"})).send().await?;
    assert_eq!(denied.status(), 403);
    let admin_on_app_route = server.with_token(ADMIN_TOKEN, Method::GET, "/v1/functions").send().await?;
    assert_eq!(admin_on_app_route.status(), 403);
    let (key, token) = server.new_app("b").await?;
    assert_eq!(key, 2);
    let second: Value = server.with_token(ADMIN_TOKEN, Method::POST, "/v1/apps/2/tokens").send().await?.json().await?;
    let second = second["token"].as_str().unwrap_or_default().to_string();
    assert_ne!(second, token);
    assert_eq!(server.with_token(&second, Method::GET, "/v1/functions").send().await?.status(), 200);
    assert_eq!(server.with_token(ADMIN_TOKEN, Method::POST, "/v1/apps/99/tokens").send().await?.status(), 404);
    let apps: Value = server.with_token(ADMIN_TOKEN, Method::GET, "/v1/apps").send().await?.json().await?;
    assert_eq!(apps["items"].as_array().map(Vec::len), Some(2));
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_apps_token_sees_nothing_on_any_route() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.deploy("hello", "hello").await?.error_for_status()?;
    let job: Value =
        server.as_app(Method::POST, "/v1/functions/hello/invoke").json(&json!({})).send().await?.json().await?;
    let job_id = job["id"].as_i64().unwrap_or_default();
    let (_, other) = server.new_app("b").await?;
    let routes = [
        (Method::GET, "/v1/functions/hello".to_string()),
        (Method::PATCH, "/v1/functions/hello".to_string()),
        (Method::DELETE, "/v1/functions/hello".to_string()),
        (Method::POST, "/v1/functions/hello/invoke".to_string()),
        (Method::POST, "/v1/functions/hello/invoke?async=true".to_string()),
        (Method::GET, "/v1/functions/hello/jobs".to_string()),
        (Method::GET, format!("/v1/jobs/{job_id}")),
        (Method::GET, format!("/v1/jobs/{job_id}/log")),
    ];
    for (method, path) in routes {
        let response = server.with_token(&other, method.clone(), &path).json(&json!({"remark": "mine"})).send().await?;
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let theirs: Value = server.with_token(&other, Method::GET, "/v1/functions").send().await?.json().await?;
    assert_eq!(theirs["total"], 0);
    assert_eq!(server.deploy_as(&other, "hello", "hello").await?.status(), 201, "names are per app");

    let mine: Value = server.as_app(Method::GET, "/v1/functions/hello").send().await?.json().await?;
    assert_eq!(mine["remark"], "", "unchanged by the other app");
    let jobs: Value = server.as_app(Method::GET, "/v1/functions/hello/jobs").send().await?.json().await?;
    assert_eq!(jobs["total"], 1, "no job was added by the other app");
    let _ = APP_TOKEN;
    server.stop().await?;
    Ok(())
}
