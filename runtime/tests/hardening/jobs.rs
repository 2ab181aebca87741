//! Every run leaves its job: a sync call whose client went away is recorded, a call
//! racing its function's deletion gets a 404 (not a 500), and job ids are never reused.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::{Server, TOKEN, guest};
use super::{send, start};

fn deploy_hostile(server: &Server, sync_timeout_ms: &str) -> anyhow::Result<()> {
    server
        .cli(&["deploy", &guest("hostile")?, "--name", "hostile", "--sync-timeout-ms", sync_timeout_ms])?
        .expect(0)?;
    Ok(())
}

#[test]
fn a_sync_call_whose_client_disconnected_is_still_recorded() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    deploy_hostile(&server, "3000")?;
    let body = r#"{"action":"loop"}"#;
    let request = format!(
        "POST /v1/functions/hostile/invoke HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(server.url.trim_start_matches("http://"))?;
    stream.write_all(request.as_bytes())?;
    // Once the guest runs (the loop runs until its 3 s deadline), the client goes away.
    let deadline = Instant::now() + Duration::from_secs(60);
    let admin = std::fs::read_to_string(dir.path().join("data/admin-token"))?;
    while !in_flight(&server, admin.trim())? {
        anyhow::ensure!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(stream);
    loop {
        let jobs = server.get_json("/v1/functions/hostile/jobs")?;
        if jobs["total"] == 1 {
            assert_eq!(jobs["items"][0]["status"], "deadline_exceeded", "{jobs}");
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "the abandoned call left no job: {jobs}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a guest is running, per `/metrics` (admin only).
fn in_flight(server: &Server, admin: &str) -> anyhow::Result<bool> {
    let (status, text) = super::send_as(server, admin, "GET", "/metrics", "", "")?;
    anyhow::ensure!(status == 200, "metrics answered {status}: {text}");
    Ok(text.lines().any(|l| l.starts_with("cloudexec_in_flight ") && l.trim_end() != "cloudexec_in_flight 0"))
}

#[test]
fn metrics_need_the_admin_token_and_the_docs_are_open() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let (status, body) = send(&server, "GET", "/metrics", "", "")?;
    assert_eq!(status, 403, "an app token sees no node-wide metrics: {body}");
    let (status, _) = super::send_as(&server, "", "GET", "/metrics", "", "")?;
    assert_eq!(status, 401);
    let admin = std::fs::read_to_string(dir.path().join("data/admin-token"))?;
    let (status, body) = super::send_as(&server, admin.trim(), "GET", "/metrics", "", "")?;
    assert_eq!(status, 200);
    assert!(body.contains("cloudexec_in_flight"), "{body}");
    for open in ["/healthz", "/openapi.json", "/docs"] {
        let (status, _) = super::send_as(&server, "", "GET", open, "", "")?;
        assert_eq!(status, 200, "{open} needs no token");
    }
    Ok(())
}

#[test]
fn a_call_racing_its_functions_deletion_is_a_404() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    deploy_hostile(&server, "2000")?;
    let url = server.url.clone();
    let call = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut answer = agent
            .post(format!("{url}/v1/functions/hostile/invoke"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .send(r#"{"action":"loop"}"#)?;
        anyhow::Ok((answer.status().as_u16(), answer.body_mut().read_to_string()?))
    });
    let (status, body) = send(&server, "DELETE", "/v1/functions/hostile", "", "")?;
    assert_eq!(status, 204, "{body}");
    let (status, body) = call.join().map_err(|_| anyhow::anyhow!("the call panicked"))??;
    assert_eq!(status, 404, "{body}");
    let error: Value = serde_json::from_str(&body)?;
    assert_eq!(error["code"], "FunctionNotExists", "{body}");
    Ok(())
}

#[test]
fn job_ids_are_not_reused_after_a_function_is_deleted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    server.cli(&["deploy", &guest("hello")?, "--name", "first"])?.expect(0)?;
    let (_, body) = send(&server, "POST", "/v1/functions/first/invoke", "application/json", "{}")?;
    let first: Value = serde_json::from_str(&body)?;
    let (status, _) = send(&server, "DELETE", "/v1/functions/first", "", "")?;
    assert_eq!(status, 204);
    server.cli(&["deploy", &guest("hello")?, "--name", "second"])?.expect(0)?;
    let (_, body) = send(&server, "POST", "/v1/functions/second/invoke", "application/json", "{}")?;
    let second: Value = serde_json::from_str(&body)?;
    let (first_id, second_id) = (first["id"].as_i64().unwrap_or(0), second["id"].as_i64().unwrap_or(0));
    assert!(second_id > first_id && first_id > 0, "{first_id} then {second_id}");
    let (status, body) = send(&server, "GET", &format!("/v1/jobs/{first_id}"), "", "")?;
    assert_eq!(status, 404, "the deleted function's job stays gone: {body}");
    Ok(())
}

#[test]
fn an_instance_keeps_at_most_ten_thousand_variables() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let uploaded = server.cli(&["bin", "upload", &guest("shop")?, "--json"])?.expect(0)?;
    let bin = serde_json::from_str::<Value>(&uploaded.stdout)?["binId"].as_str().unwrap_or_default().to_string();
    let (_, body) = send(&server, "POST", "/v1/instances", "application/json", &format!(r#"{{"binId":"{bin}"}}"#))?;
    let id = serde_json::from_str::<Value>(&body)?["executeInstanceId"].as_str().unwrap_or_default().to_string();
    let many: serde_json::Map<String, Value> = (0..10_001).map(|i| (format!("v{i}"), Value::from(i))).collect();
    let (status, body) = send(
        &server,
        "POST",
        &format!("/v1/instances/{id}/runs"),
        "application/json",
        &Value::Object(many).to_string(),
    )?;
    assert_eq!(status, 400, "{}", &body[..body.len().min(300)]);
    assert!(body.contains("at most 10000 are kept"), "{body}");
    let (status, body) = send(&server, "GET", &format!("/v1/instances/{id}"), "", "")?;
    assert_eq!(status, 200);
    assert!(!body.contains("v10000"), "nothing of the refused run was kept");
    Ok(())
}
