//! The `cloudexec` binary: output a person reads, JSON a script reads, exit codes.

use std::process::{Command, Output};

use serde_json::Value;

fn cloudexec(args: &[&str]) -> anyhow::Result<Output> {
    let cache = cloudexec_tests::repo_root().join("target/test-module-cache");
    Ok(Command::new(env!("CARGO_BIN_EXE_cloudexec")).env("CLOUDEXEC_CACHE_DIR", cache).args(args).output()?)
}

fn guest(name: &str) -> anyhow::Result<String> {
    Ok(cloudexec_tests::guest(name)?.display().to_string())
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn invoke_prints_output_log_memory_and_time() -> anyhow::Result<()> {
    let out = cloudexec(&["invoke", &guest("hello")?, "--input", r#"{"name":"CLI"}"#])?;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(r#"output: {"greeting":"Hello, CLI!"}"#), "{text}");
    assert!(text.contains("[INFO] greeting CLI"), "{text}");
    assert!(text.contains("peak memory:") && text.contains("time:"), "{text}");
    Ok(())
}

#[test]
fn invoke_json_report_and_exit_codes_follow_the_outcome() -> anyhow::Result<()> {
    let hostile = guest("hostile")?;
    // Only the endless loop gets a short deadline: the memory bomb must reach its cap
    // first however busy the machine is.
    let cases = [
        (r#"{"action":"error"}"#, "30000", 1, "guest_error"),
        (r#"{"action":"loop"}"#, "300", 4, "deadline_exceeded"),
        (r#"{"action":"bomb"}"#, "30000", 5, "memory_limit_exceeded"),
        (r#"{"action":"panic"}"#, "30000", 6, "trap"),
    ];
    for (input, timeout_ms, code, kind) in cases {
        let out = cloudexec(&["invoke", &hostile, "--input", input, "--timeout-ms", timeout_ms, "--json"])?;
        assert_eq!(out.status.code(), Some(code), "{input}: {}", stdout(&out));
        let report: Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(report["ok"], Value::Bool(false));
        assert_eq!(report["error"]["kind"], kind, "{report}");
    }
    Ok(())
}

#[test]
fn bad_files_and_arguments_have_their_own_exit_codes() -> anyhow::Result<()> {
    let missing = cloudexec(&["invoke", "/nonexistent/x.wasm"])?;
    assert_eq!(missing.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/x.wasm"));

    let bad_json = cloudexec(&["invoke", &guest("hello")?, "--input", "{nope"])?;
    assert_eq!(bad_json.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&bad_json.stderr).contains("--input is not valid JSON"));

    let dir = tempfile::tempdir()?;
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"junk")?;
    let rejected = cloudexec(&["invoke", junk.to_str().unwrap_or_default()])?;
    assert_eq!(rejected.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&rejected.stderr).contains("invalid module"));

    let wrong_world = cloudexec(&["run-bin", &guest("hello")?])?;
    assert_eq!(wrong_world.status.code(), Some(3));
    assert_eq!(cloudexec(&["invoke"])?.status.code(), Some(2), "usage error");
    Ok(())
}

#[test]
fn run_bin_walks_the_shop_with_bound_functions() -> anyhow::Result<()> {
    let bind = |key: &str, crate_name: &str| -> anyhow::Result<String> {
        Ok(format!("utcook.jar:com.ut.BuzMethod.{key}={}", guest(crate_name)?))
    };
    let out = cloudexec(&[
        "run-bin",
        &guest("shop")?,
        "--bind",
        &bind("shoppingCart", "shop-cart")?,
        "--bind",
        &bind("order", "shop-order")?,
        "--bind",
        &bind("payOrder", "shop-pay")?,
        "--vars",
        r#"{"item":"apple"}"#,
        "--vars",
        r#"{"amount":2.5}"#,
        "--vars",
        r#"{"pay":true}"#,
    ])?;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("1: paid (path: cart -> ordered -> paid)"), "{text}");
    assert!(text.contains(r#"orderId = "order-apple-250""#), "{text}");
    assert!(text.contains("run 3: ok"), "{text}");
    Ok(())
}

#[test]
fn run_bin_reports_a_trap_and_keeps_the_state_before_it() -> anyhow::Result<()> {
    let out = cloudexec(&[
        "run-bin",
        &guest("hostile-bin")?,
        "--vars",
        r#"{"echo":"x"}"#,
        "--vars",
        r#"{"trap":1}"#,
        "--json",
    ])?;
    assert_eq!(out.status.code(), Some(6));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["runs"][1]["kind"], "trap");
    assert_eq!(report["state"]["machines"]["1"]["current"], "a", "{report}");
    assert!(report["state"]["variables"].get("touched").is_none());
    assert!(report["state"]["variables"].get("callError").is_some(), "the first run was kept");
    Ok(())
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_cli_quietly() -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    // A log of 1 MiB: more than a pipe holds, so the CLI is still writing when the reader goes.
    let hostile = guest("hostile")?;
    for _ in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cloudexec"))
            .args(["invoke", &hostile, "--input", r#"{"action":"print","mb":2}"#, "--timeout-ms", "30000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first)?; // then the pipe closes, as `| head -1` does
        let output = child.wait_with_output()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(matches!(output.status.code(), Some(0 | 141)), "{:?}: {stderr}", output.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    Ok(())
}
