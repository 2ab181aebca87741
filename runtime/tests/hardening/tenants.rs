//! One app cannot starve another: its long jobs never hold every slot, its queue
//! allowance is its own, its 429s are counted under its key, and an admin can set an
//! app's limits (kept across restarts).

use anyhow::Context;
use serde_json::{Value, json};

use super::common::{Server, TOKEN, guest};
use super::{send, send_as};

const ADMIN: &str = "tenants-admin-token-000001";

fn start_with(dir: &tempfile::TempDir, flags: &[&str]) -> anyhow::Result<Server> {
    let mut all = vec!["--admin-token", ADMIN];
    all.extend_from_slice(flags);
    Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &all)
}

/// A second app with `hello` deployed; its token.
fn second_app(server: &Server) -> anyhow::Result<String> {
    let (status, body) = send_as(server, ADMIN, "POST", "/v1/apps", "application/json", r#"{"name":"b"}"#)?;
    anyhow::ensure!(status == 201, "{body}");
    let token = serde_json::from_str::<Value>(&body)?["token"].as_str().context("no token")?.to_string();
    common_deploy(server, &token, "hello")?;
    Ok(token)
}

fn common_deploy(server: &Server, token: &str, guest_name: &str) -> anyhow::Result<()> {
    let args = ["deploy", &guest(guest_name)?, "--name", guest_name, "--server", &server.url, "--token", token];
    super::common::cloudexec(&args)?.expect(0)?;
    Ok(())
}

#[test]
fn another_apps_long_jobs_leave_a_slot_for_a_sync_call() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_with(&dir, &["--max-concurrency", "4", "--max-queue", "8"])?;
    server.cli(&["deploy", &guest("hostile")?, "--name", "hostile", "--async-timeout-ms", "30000"])?.expect(0)?;
    let b = second_app(&server)?;
    // App A fills the node with loops: more than there are slots.
    let mut loops = Vec::new();
    for _ in 0..10 {
        let (status, body) = send(
            &server,
            "POST",
            "/v1/functions/hostile/invoke?async=true",
            "application/json",
            r#"{"action":"loop"}"#,
        )?;
        assert_eq!(status, 202, "{body}");
        loops.push(serde_json::from_str::<Value>(&body)?["job_id"].as_i64().context("no job_id")?);
    }
    server.wait_status(loops[0], "executing")?;
    // App B's sync call is served while every loop of A still runs (A holds at most 3 of 4).
    let (status, body) =
        send_as(&server, &b, "POST", "/v1/functions/hello/invoke", "application/json", r#"{"name":"B"}"#)?;
    assert_eq!(status, 200, "{body}");
    let job: Value = serde_json::from_str(&body)?;
    assert_eq!(job["status"], "fulfilled", "{body}");
    let a_jobs = server.get_json("/v1/functions/hostile/jobs?limit=100")?;
    let statuses: Vec<&str> =
        a_jobs["items"].as_array().into_iter().flatten().filter_map(|j| j["status"].as_str()).collect();
    assert!(
        statuses.iter().all(|s| matches!(*s, "waiting" | "executing")),
        "no loop ended before B was served: {statuses:?}"
    );
    Ok(())
}

#[test]
fn an_apps_queue_allowance_and_rate_are_its_own_and_429s_are_counted_per_app() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_with(&dir, &["--max-concurrency", "2", "--max-queue", "2", "--app-share", "0.5"])?;
    server.cli(&["deploy", &guest("hostile")?, "--name", "hostile", "--sync-timeout-ms", "8000"])?.expect(0)?;
    let b = second_app(&server)?;
    // A: one running, one queued, its allowance; the third is refused.
    let url = server.url.clone();
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                agent
                    .post(format!("{url}/v1/functions/hostile/invoke"))
                    .header("authorization", format!("Bearer {TOKEN}"))
                    .send(r#"{"action":"loop"}"#)
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    // Once both loops hold A's places (node-wide in-flight count 2), A's next call is refused.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, metrics) = send_as(&server, ADMIN, "GET", "/metrics", "", "")?;
        if metrics.lines().any(|l| l.trim() == "cloudexec_in_flight 2") {
            break;
        }
        anyhow::ensure!(busy.iter().all(|t| !t.is_finished()), "a loop ended before both were in flight");
        anyhow::ensure!(std::time::Instant::now() < deadline, "the loops were never both in flight");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (status, refused) =
        send(&server, "POST", "/v1/functions/hostile/invoke", "application/json", r#"{"action":"echo"}"#)?;
    assert_eq!(status, 429, "{refused}");
    assert!(refused.contains("ResourceThrottled") && refused.contains("this app"), "{refused}");
    let (status, body) = send_as(&server, &b, "POST", "/v1/functions/hello/invoke", "application/json", "{}")?;
    assert_eq!(status, 200, "B is admitted while A is refused: {body}");
    let (_, metrics) = send_as(&server, ADMIN, "GET", "/metrics", "", "")?;
    assert!(metrics.lines().any(|l| l.starts_with("cloudexec_throttled_total{app=\"1\"}")), "{metrics}");
    assert!(!metrics.contains("cloudexec_throttled_total{app=\"2\"}"), "{metrics}");

    // B's rate limit, set by the admin: two calls, then 429 (one call per 100 s refills).
    let limits = json!({"rate_per_sec": 0.01, "burst": 2}).to_string();
    let (status, body) = send_as(&server, ADMIN, "PUT", "/v1/apps/2/limits", "application/json", &limits)?;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send_as(&server, &b, "PUT", "/v1/apps/2/limits", "application/json", &limits)?;
    assert_eq!(status, 403, "only the admin sets limits");
    for expected in [200, 200, 429] {
        let (status, body) = send_as(&server, &b, "POST", "/v1/functions/hello/invoke", "application/json", "{}")?;
        assert_eq!(status, expected, "{body}");
    }
    for thread in busy {
        let _ = thread.join();
    }
    // The queued loop waited for A's one slot for its whole deadline, and did not run.
    let a_jobs = server.get_json("/v1/functions/hostile/jobs?status=deadline_exceeded")?;
    let messages: Vec<&str> =
        a_jobs["items"].as_array().into_iter().flatten().filter_map(|j| j["error"]["message"].as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("no slot came free")),
        "the wait counts against the deadline: {messages:?}"
    );
    drop(server);
    let restarted = start_with(&dir, &[])?;
    let (status, body) = send_as(&restarted, ADMIN, "GET", "/v1/apps/2/limits", "", "")?;
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body)?;
    assert_eq!(view["limits"]["rate_per_sec"], 0.01, "kept across a restart: {body}");
    let (status, _) =
        send_as(&restarted, ADMIN, "PUT", "/v1/apps/2/limits", "application/json", r#"{"max_running":0}"#)?;
    assert_eq!(status, 400);
    Ok(())
}
