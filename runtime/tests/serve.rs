//! `cloudexec serve` as a real subprocess on a free port, and the CLI as its client:
//! deploy, call, jobs, logs and their exit codes; async jobs surviving a `kill -9`; and
//! `cloudexec token`.

mod common;

use std::path::Path;

use anyhow::Context;
use std::thread::sleep;
use std::time::Duration;

use common::{Server, TOKEN, cloudexec, free_port, guest};
use serde_json::{Value, json};

/// The number after `prefix` on its line of `text`.
fn number_after(text: &str, prefix: &str) -> anyhow::Result<i64> {
    let line = text.lines().find_map(|l| l.strip_prefix(prefix)).with_context(|| format!("no {prefix:?} in {text}"))?;
    let digits: String = line.trim().chars().take_while(char::is_ascii_digit).collect();
    Ok(digits.parse()?)
}

#[test]
fn deploy_call_jobs_and_logs_work_against_a_running_server() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = Server::start(&data, dir.path(), Some(TOKEN), &[])?;

    let deployed = server.cli(&["deploy", &guest("hello")?, "--name", "hello", "--remark", "greets"])?.expect(0)?;
    assert!(deployed.stdout.contains("created function hello"), "{deployed:#?}");
    assert!(deployed.stdout.contains("version: 1"), "{deployed:#?}");
    let sha = deployed.stdout.lines().find_map(|l| l.strip_prefix("sha256: ")).unwrap_or_default();
    assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()), "{deployed:#?}");

    let sync = server.cli(&["call", "hello", "--input", r#"{"name":"CLI"}"#])?.expect(0)?;
    for want in [r#"output: {"greeting":"Hello, CLI!"}"#, "status: fulfilled", "[INFO] greeting CLI", "peak memory:"] {
        assert!(sync.stdout.contains(want), "{want:?} missing: {sync:#?}");
    }
    let sync_id = number_after(&sync.stdout, "job: ")?;

    let queued = server.cli(&["call", "hello", "--async", "--input", r#"{"name":"Async"}"#])?.expect(0)?;
    let async_id = number_after(&queued.stdout, "job: ")?;
    assert!(queued.stdout.contains(&format!("url: {}/v1/jobs/{async_id}", server.url)), "{queued:#?}");
    assert_eq!(server.wait_final(async_id)?["status"], "fulfilled");

    let table = server.cli(&["jobs", "hello"])?.expect(0)?;
    assert!(table.stdout.starts_with("ID  STATUS"), "{table:#?}");
    for (id, kind) in [(sync_id, "time_sensitive"), (async_id, "batch")] {
        let row = table.stdout.lines().find(|l| l.starts_with(&format!("{id} "))).context("row missing")?;
        assert!(row.contains("fulfilled") && row.contains(kind) && row.contains("open_api"), "{row}");
    }
    assert!(table.stdout.contains("2 of 2 jobs shown"), "{table:#?}");
    let batch = server.cli(&["jobs", "hello", "--service-type", "batch", "--json"])?.expect(0)?;
    let page: Value = serde_json::from_str(&batch.stdout)?;
    assert_eq!((page["total"].as_i64(), page["items"][0]["id"].as_i64()), (Some(1), Some(async_id)), "{page}");

    // `logs` without --token reads it from the server's data dir.
    let log = cloudexec(&["logs", &async_id.to_string(), "--server", &server.url, "--data-dir", path(&data)?])?;
    let log = log.expect(0)?;
    assert!(log.stdout.contains("[INFO] greeting Async"), "{log:#?}");

    let updated =
        server.cli(&["deploy", &guest("flow-start-node")?, "--name", "hello", "--sync-timeout-ms", "2000"])?;
    let updated = updated.expect(0)?;
    assert!(updated.stdout.contains("updated function hello") && updated.stdout.contains("version: 2"), "{updated:#?}");
    let added = server.cli(&["call", "hello", "--input", r#"{"left":2,"right":3}"#])?.expect(0)?;
    assert!(added.stdout.contains(r#"output: {"result_number":5}"#), "{added:#?}");
    let failed = server.cli(&["call", "hello", "--input", r#"{"left":"x"}"#])?.expect(1)?;
    assert!(failed.stdout.starts_with("error: InvalidArgument: "), "{failed:#?}");
    assert!(failed.stdout.contains("left and right must be numbers"), "{failed:#?}");
    assert!(failed.stdout.contains("status: execution_failed"), "{failed:#?}");
    Ok(())
}

#[test]
fn client_errors_have_their_exit_codes_and_say_what_went_wrong() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &[])?;

    for args in [&["call", "missing"][..], &["jobs", "missing"]] {
        let run = server.cli(args)?.expect(10)?;
        assert!(run.stderr.contains(r#"error: FunctionNotExists: function "missing" does not exist"#), "{run:#?}");
    }
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"junk")?;
    let rejected = server.cli(&["deploy", path(&junk)?, "--name", "junk"])?.expect(3)?;
    assert!(rejected.stderr.contains("error: InvalidArgument: "), "{rejected:#?}");
    let unreadable = server.cli(&["deploy", "/nonexistent/x.wasm", "--name", "x"])?.expect(7)?;
    assert!(unreadable.stderr.contains("cannot read /nonexistent/x.wasm"), "{unreadable:#?}");
    let bad_input = server.cli(&["call", "missing", "--input", "{nope"])?.expect(7)?;
    assert!(bad_input.stderr.contains("--input is not valid JSON"), "{bad_input:#?}");

    let no_token = cloudexec(&["call", "hello", "--server", &server.url, "--data-dir", "/nonexistent/data"])?;
    let no_token = no_token.expect(7)?;
    assert!(no_token.stderr.contains("no token found") && no_token.stderr.contains("/nonexistent/data/token"));
    let wrong = cloudexec(&["jobs", "hello", "--server", &server.url, "--token", "not-the-token-at-all"])?.expect(8)?;
    assert!(wrong.stderr.contains("error: Unauthorized: "), "{wrong:#?}");

    let nobody = format!("http://127.0.0.1:{}", free_port()?);
    let down = cloudexec(&["call", "hello", "--server", &nobody, "--token", TOKEN])?.expect(8)?;
    assert!(down.stderr.contains(&format!("cannot reach the cloudexec server at {nobody}")), "{down:#?}");
    Ok(())
}

#[test]
fn async_jobs_survive_a_kill_9_of_the_server() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let one_slot = ["--max-concurrency", "1"];
    let first = Server::start(&data, dir.path(), Some(TOKEN), &one_slot)?;
    let printed = first.stdout_text();
    assert!(printed.contains(&format!("app 1 token: {TOKEN}")) && printed.contains("admin token: "), "{printed}");

    first.cli(&["deploy", &guest("hostile")?, "--name", "hostile", "--async-timeout-ms", "10000"])?.expect(0)?;
    let inputs = [json!({"action": "loop"}), json!({"action": "echo", "n": 1}), json!({"action": "echo", "n": 2})];
    let mut ids = Vec::new();
    for input in &inputs {
        let queued = first.cli(&["call", "hostile", "--async", "--json", "--input", &input.to_string()])?.expect(0)?;
        let accepted: Value = serde_json::from_str(&queued.stdout)?;
        ids.push(accepted["job_id"].as_i64().context("no job_id")?);
    }
    first.wait_status(ids[0], "executing")?;
    sleep(Duration::from_millis(300));
    for id in &ids[1..] {
        assert_eq!(first.get_json(&format!("/v1/jobs/{id}"))?["status"], "waiting", "one slot: echo jobs wait");
    }
    drop(first); // SIGKILL: no graceful shutdown.

    let second = Server::start(&data, dir.path(), Some(TOKEN), &one_slot)?;
    let looped = second.wait_final(ids[0])?;
    assert_eq!(looped["status"], "deadline_exceeded", "{looped}");
    for (id, input) in ids[1..].iter().zip(&inputs[1..]) {
        let echoed = second.wait_final(*id)?;
        assert_eq!((&echoed["status"], &echoed["output"]), (&json!("fulfilled"), input), "{echoed}");
    }
    let list = second.cli(&["jobs", "hostile", "--json"])?.expect(0)?;
    let page: Value = serde_json::from_str(&list.stdout)?;
    assert_eq!(page["total"], 3, "{page}");
    Ok(())
}

#[test]
fn token_prints_the_token_the_server_generated() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = Server::start(&data, dir.path(), None, &[])?;
    let printed = server.stdout_text();
    let generated = printed.lines().find_map(|l| l.strip_prefix("app 1 token: ")).context("no token printed")?;
    assert!(generated.len() >= 16, "{printed}");

    let token = cloudexec(&["token", "--data-dir", path(&data)?])?.expect(0)?;
    assert_eq!(token.stdout.trim(), generated);
    let missing = dir.path().join("missing");
    let failed = cloudexec(&["token", "--data-dir", path(&missing)?])?.expect(7)?;
    assert!(failed.stderr.contains(&format!("cannot read {}", missing.join("token").display())), "{failed:#?}");
    Ok(())
}

/// At start a server raises its soft limit of open files to what `--max-connections` and
/// `--max-outbound-calls` can use (plus 1,024 for the rest) and grows its descriptor table
/// to match, so calls do not fail at a low default limit and no `accept` waits behind a
/// table resize; and it turns transparent huge pages off for itself (cli/serve_process.rs).
#[cfg(target_os = "linux")]
#[test]
fn serve_prepares_its_process_for_its_limits() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let limits = ["--max-connections", "1000", "--max-outbound-calls", "500"];
    let server = Server::start_under_ulimit("-Sn 256", &dir.path().join("data"), dir.path(), Some(TOKEN), &limits)?;
    let wanted: u64 = 1000 + 500 + 1024;

    let (soft, hard) = open_files_limits(server.pid())?;
    let expected = if hard == "unlimited" { wanted } else { wanted.min(hard.parse()?) };
    assert_eq!(soft, expected.to_string(), "hard limit {hard}");

    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid()))?;
    let fd_size: u64 = status.lines().find_map(|l| l.strip_prefix("FDSize:")).context("no FDSize")?.trim().parse()?;
    assert!(fd_size >= expected, "the descriptor table holds {fd_size}, not {expected}");
    // Transparent huge pages are off for it (the kernel's per-process flag).
    let thp = status.lines().find_map(|l| l.strip_prefix("THP_enabled:")).context("no THP_enabled")?.trim();
    assert_eq!(thp, "0", "transparent huge pages are still on");
    // And it serves as before.
    assert_eq!(server.get_json("/healthz")?["status"], "ok");
    Ok(())
}

/// A hard limit of open files below what the limits can use: the server raises its soft
/// limit as far as it may (here it already is there), says so on stderr, and serves.
#[cfg(target_os = "linux")]
#[test]
fn serve_says_when_the_hard_limit_of_open_files_is_below_its_limits() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let limits = ["--max-connections", "3000", "--max-outbound-calls", "500"];
    let server = Server::start_under_ulimit("-n 2000", &dir.path().join("data"), dir.path(), Some(TOKEN), &limits)?;
    let (soft, hard) = open_files_limits(server.pid())?;
    assert_eq!((soft.as_str(), hard.as_str()), ("2000", "2000"));
    let log = server.stderr_text();
    assert!(log.contains("the hard limit of open files is below") && log.contains("wanted=4524"), "{log}");
    assert_eq!(server.get_json("/healthz")?["status"], "ok");
    Ok(())
}

/// A process's soft and hard limits of open files, as `/proc/PID/limits` writes them.
#[cfg(target_os = "linux")]
fn open_files_limits(pid: u32) -> anyhow::Result<(String, String)> {
    let proc_limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let line = proc_limits.lines().find(|l| l.starts_with("Max open files")).context("no open files limit")?;
    let mut values = line.trim_start_matches("Max open files").split_whitespace().map(str::to_string);
    Ok((values.next().context("no soft limit")?, values.next().context("no hard limit")?))
}

fn path(path: &Path) -> anyhow::Result<&str> {
    path.to_str().context("non-UTF-8 temp path")
}
