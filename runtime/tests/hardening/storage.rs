//! A full database (here: `--max-db-mib`, which fails writes as a full disk does) gets
//! clear 503s, nothing answered as refused is stored, accepted jobs run once space is
//! freed, and a result too big for the space left ends its job as failed, saying so,
//! instead of leaving it `executing`.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use super::common::{JOB_TIMEOUT, Server, TOKEN, guest};
use super::send;

fn start_capped(dir: &tempfile::TempDir) -> anyhow::Result<Server> {
    let flags = ["--max-db-mib", "2", "--max-concurrency", "1"];
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &flags)?;
    server.cli(&["deploy", &guest("hostile")?, "--name", "hostile", "--async-timeout-ms", "8000"])?.expect(0)?;
    Ok(server)
}

/// Stores `count` finished jobs of about 200 kB each (input and output) under `name`.
fn ballast(server: &Server, name: &str, count: usize) -> anyhow::Result<()> {
    server.cli(&["deploy", &guest("hostile")?, "--name", name])?.expect(0)?;
    for n in 0..count {
        let input = json!({"action": "echo", "n": n, "pad": "x".repeat(100_000)}).to_string();
        let (status, body) = send(server, "POST", &format!("/v1/functions/{name}/invoke"), "application/json", &input)?;
        anyhow::ensure!(status == 200, "ballast {n}: {status} {}", &body[..body.len().min(300)]);
    }
    Ok(())
}

#[test]
fn a_full_database_is_a_503_and_accepted_jobs_run_once_space_is_freed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_capped(&dir)?;
    ballast(&server, "filler", 5)?;
    // A loop holds the only slot, so the jobs below wait and fill the database.
    let invoke = "/v1/functions/hostile/invoke?async=true";
    let (status, body) = send(&server, "POST", invoke, "application/json", r#"{"action":"loop"}"#)?;
    assert_eq!(status, 202, "{body}");
    let big = "x".repeat(100_000);
    let mut accepted = Vec::new();
    let mut refused = None;
    for n in 0..60 {
        let input = json!({"action": "error", "n": n, "pad": big}).to_string();
        let (status, body) = send(&server, "POST", invoke, "application/json", &input)?;
        match status {
            202 => accepted.push(serde_json::from_str::<Value>(&body)?["job_id"].as_i64().context("no job_id")?),
            503 => {
                refused = Some(body);
                break;
            }
            other => anyhow::bail!("unexpected {other}: {body}"),
        }
    }
    let refused = refused.context("the database never filled up")?;
    assert!(refused.contains("\"code\":\"StorageFull\""), "{refused}");
    assert!(!accepted.is_empty());
    let (status, body) = send(&server, "GET", "/healthz", "", "")?;
    assert_eq!(status, 503, "healthz reports the store unwritable: {body}");
    assert!(body.contains("StorageFull"), "{body}");
    let echo = json!({"action": "echo", "pad": big}).to_string();
    let (status, body) = send(&server, "POST", "/v1/functions/hostile/invoke", "application/json", &echo)?;
    assert_eq!(status, 503, "a sync call whose job cannot be stored: {body}");
    let listed: Value = server.get_json("/v1/functions/hostile/jobs?limit=1000")?;
    assert_eq!(listed["total"], accepted.len() + 1, "the loop and the accepted jobs, nothing refused");

    // Space freed: every accepted job runs and ends with its own result.
    let (status, body) = send(&server, "DELETE", "/v1/functions/filler", "", "")?;
    assert_eq!(status, 204, "{body}");
    for id in &accepted {
        let job = wait_final(&server, *id)?;
        assert_eq!((job["status"].as_str(), job["error"]["code"].as_str()), (Some("execution_failed"), Some("Boom")));
    }
    let (status, body) = send(&server, "GET", "/healthz", "", "")?;
    assert_eq!((status, body.contains("\"status\":\"ok\"")), (200, true), "{body}");
    server.cli(&["deploy", &guest("hello")?, "--name", "hello"])?.expect(0)?;
    server.cli(&["call", "hello", "--input", r#"{"name":"again"}"#])?.expect(0)?.shows(&["Hello, again!"])?;
    Ok(())
}

#[test]
fn a_result_too_big_for_the_space_left_ends_its_job_failed_saying_so() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_capped(&dir)?;
    // About 700 kB left: less than the 1 MiB log the job below captures.
    ballast(&server, "ballast", 5)?;
    let (status, body) = send(
        &server,
        "POST",
        "/v1/functions/hostile/invoke?async=true",
        "application/json",
        r#"{"action":"print","mb":2}"#,
    )?;
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<Value>(&body)?["job_id"].as_i64().context("no job_id")?;
    let job = wait_final(&server, id)?;
    assert_eq!(job["status"], "execution_failed", "{job}");
    assert_eq!(job["error"]["code"], "ResultNotStored", "{job}");
    assert!(job["error"]["message"].as_str().is_some_and(|m| m.contains("fulfilled")), "{job}");
    Ok(())
}

/// Polls a job until it leaves `waiting` and `executing` (the store's retries take seconds).
fn wait_final(server: &Server, id: i64) -> anyhow::Result<Value> {
    let deadline = Instant::now() + JOB_TIMEOUT;
    loop {
        let job = server.get_json(&format!("/v1/jobs/{id}"))?;
        if !matches!(job["status"].as_str(), Some("waiting" | "executing")) {
            return Ok(job);
        }
        if Instant::now() >= deadline {
            let log = server.stderr_text();
            let tail: String = log.chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
            anyhow::bail!("job {id} is stuck in {}; the server's log ends with:\n{tail}", job["status"]);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
