//! Seed 001's `user_log_url` is a pre-signed link that expires: fetched with no
//! credentials, refused once expired or when any part of it is changed, never valid for
//! another job or another app's.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{TestServer, config};

const BASE: &str = "/userve/v1.3/cloud-function/";

async fn deploy_and_run(server: &TestServer, token: &str, name: &str) -> anyhow::Result<Vec<String>> {
    let wasm = cloudexec_tests::guest_bytes("hello")?;
    let code = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, wasm);
    let created =
        server.with_token(token, Method::POST, BASE).json(&json!({"name": name, "function_code": code})).send().await?;
    anyhow::ensure!(created.status() == 201, "creating {name}: {}", created.status());
    for who in ["one", "two"] {
        let path = format!("{BASE}{name}/job/");
        let ran = server.with_token(token, Method::POST, &path).json(&json!({"data": {"name": who}})).send().await?;
        anyhow::ensure!(ran.status() == 200, "running {name}: {}", ran.status());
    }
    let jobs: Value = server.with_token(token, Method::GET, &format!("{BASE}{name}/job/")).send().await?.json().await?;
    Ok(jobs["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|j| j["user_log_url"].as_str().map(str::to_string))
        .collect())
}

/// The error code of a refused link, in seed 001's envelope.
async fn refusal(server: &TestServer, url: &str) -> anyhow::Result<(u16, Value)> {
    let answer = server.client.get(url).send().await?;
    Ok((answer.status().as_u16(), answer.json().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_link_opens_its_own_job_only() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let links = deploy_and_run(&server, crate::server::APP_TOKEN, "hello").await?;
    assert_eq!(links.len(), 2);
    for link in &links {
        assert!(link.contains("X-Amz-Expires=86400") && link.contains("X-Amz-Signature="), "{link}");
        let log = server.client.get(link).send().await?;
        assert_eq!(log.status(), 200, "{link}");
        assert!(log.text().await?.starts_with("[INFO] greeting "));
    }
    // Another job's path under this job's signature, a changed signature, a changed app,
    // a longer life: all refused.
    let (first, second) = (&links[0], &links[1]);
    let path_of = |l: &str| l.split('?').next().unwrap_or_default().to_string();
    let query_of = |l: &str| l.split('?').nth(1).unwrap_or_default().to_string();
    let swapped = format!("{}?{}", path_of(second), query_of(first));
    let last = first.chars().last().unwrap_or('0');
    let altered = format!("{}{}", &first[..first.len() - 1], if last == '0' { '1' } else { '0' });
    let other_app = first.replace("X-Cloudexec-App=1", "X-Cloudexec-App=2");
    let longer = first.replace("X-Amz-Expires=86400", "X-Amz-Expires=864000");
    for url in [&swapped, &altered, &other_app, &longer] {
        let (status, body) = refusal(&server, url).await?;
        assert_eq!(status, 403, "{url}: {body}");
        assert_eq!(body["error"]["code"], "AccessDenied", "{body}");
    }
    // Another app's job under its own valid link is its own; app 1's link never opens it.
    let (_, other) = server.new_app("b").await?;
    let theirs = deploy_and_run(&server, &other, "hello").await?;
    let crossed = format!("{}?{}", path_of(&theirs[0]), query_of(first));
    assert_eq!(refusal(&server, &crossed).await?.0, 403, "{crossed}");
    assert_eq!(server.client.get(&theirs[0]).send().await?.status(), 200);
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_link_expires() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = config(dir.path());
    config.log_link_ttl = Duration::from_secs(1);
    let server = TestServer::start_with(config).await?;
    let links = deploy_and_run(&server, crate::server::APP_TOKEN, "hello").await?;
    assert!(links[0].contains("X-Amz-Expires=1"), "{}", links[0]);
    // Whole seconds count: two and a half of them are past a one-second link.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (status, body) = refusal(&server, &links[0]).await?;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("expired"), "{body}");
    // Listing again gives a fresh link: made later (fetching it within its one second
    // would race a busy machine, so its date is what is checked).
    let date = |link: &str| link.split("X-Amz-Date=").nth(1).and_then(|d| d.get(..16)).unwrap_or_default().to_string();
    let jobs: Value = server.as_app(Method::GET, &format!("{BASE}hello/job/")).send().await?.json().await?;
    let fresh = jobs["objects"][0]["user_log_url"].as_str().unwrap_or_default();
    assert!(date(fresh) > date(&links[0]), "{fresh} after {}", links[0]);
    server.stop().await?;
    Ok(())
}
