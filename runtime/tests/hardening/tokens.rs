//! Tokens can be listed and revoked, a restart with a new `--token`/`--admin-token`
//! refuses the previous start's, and a bad token at start is a clear error.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use super::common::{self, Server, TOKEN};
use super::{send, send_as};

const ADMIN: &str = "hardening-admin-token-0001";

fn start_with(dir: &std::path::Path, app: &str, admin: &str) -> anyhow::Result<Server> {
    Server::start(&dir.join("data"), dir, Some(app), &["--admin-token", admin])
}

fn status_as(server: &Server, token: &str, method: &str, path: &str) -> anyhow::Result<u16> {
    Ok(send_as(server, token, method, path, "application/json", "")?.0)
}

#[test]
fn an_issued_token_is_listed_without_its_secret_and_refused_once_revoked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_with(dir.path(), TOKEN, ADMIN)?;
    let (status, body) = send_as(&server, ADMIN, "POST", "/v1/apps/1/tokens", "application/json", "")?;
    assert_eq!(status, 201, "{body}");
    let issued: Value = serde_json::from_str(&body)?;
    let token = issued["token"].as_str().context("no token")?.to_string();
    let id = issued["id"].as_i64().context("no id")?;
    assert_eq!(status_as(&server, &token, "GET", "/v1/functions")?, 200);

    let (status, body) = send_as(&server, ADMIN, "GET", "/v1/apps/1/tokens", "", "")?;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(&token) && !body.contains(TOKEN), "a listing shows no token: {body}");
    let list: Value = serde_json::from_str(&body)?;
    let origins: Vec<(i64, &str)> = list["items"]
        .as_array()
        .context("no items")?
        .iter()
        .map(|t| (t["id"].as_i64().unwrap_or_default(), t["origin"].as_str().unwrap_or_default()))
        .collect();
    assert!(origins.contains(&(id, "issued")) && origins.iter().any(|(_, o)| *o == "start"), "{body}");

    // An app token cannot manage tokens.
    assert_eq!(status_as(&server, TOKEN, "GET", "/v1/apps/1/tokens")?, 403);
    assert_eq!(status_as(&server, TOKEN, "DELETE", &format!("/v1/apps/1/tokens/{id}"))?, 403);

    let cli = |args: &[&str]| common::cloudexec(&[args, &["--server", &server.url, "--admin-token", ADMIN]].concat());
    let listed = cli(&["token", "list"])?.expect(0)?;
    assert!(listed.stdout.contains("issued") && listed.stdout.contains("start"), "{listed:#?}");
    cli(&["token", "revoke", &id.to_string()])?.expect(0)?.shows(&[&format!("revoked token {id} of app 1")])?;

    let (status, body) = send_as(&server, &token, "GET", "/v1/functions", "", "")?;
    assert_eq!(status, 401, "a revoked token is refused: {body}");
    assert_eq!(status_as(&server, TOKEN, "GET", "/v1/functions")?, 200, "the other tokens still work");
    let (status, body) = send_as(&server, ADMIN, "DELETE", &format!("/v1/apps/1/tokens/{id}"), "", "")?;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("TokenNotExists"), "{body}");
    assert_eq!(status_as(&server, ADMIN, "GET", "/v1/apps/99/tokens")?, 404);
    cli(&["token", "revoke", &id.to_string()])?.expect(10)?;
    Ok(())
}

#[test]
fn a_restart_with_new_tokens_refuses_the_previous_starts_tokens() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = start_with(dir.path(), TOKEN, ADMIN)?;
    let (_, body) = send_as(&first, ADMIN, "POST", "/v1/apps/1/tokens", "application/json", "")?;
    let issued: Value = serde_json::from_str(&body)?;
    let issued = issued["token"].as_str().context("no token")?.to_string();
    drop(first);

    let (app, admin) = ("rotated-app-token-000000002", "rotated-admin-token-0000002");
    let second = start_with(dir.path(), app, admin)?;
    assert_eq!(status_as(&second, TOKEN, "GET", "/v1/functions")?, 401, "the old app token is refused");
    assert_eq!(status_as(&second, ADMIN, "GET", "/v1/apps")?, 401, "the old admin token is refused");
    assert_eq!(status_as(&second, app, "GET", "/v1/functions")?, 200);
    assert_eq!(status_as(&second, admin, "GET", "/v1/apps")?, 200);
    assert_eq!(status_as(&second, &issued, "GET", "/v1/functions")?, 200, "issued tokens live until revoked");
    let files = dir.path().join("data");
    assert_eq!(std::fs::read_to_string(files.join("token"))?.trim(), app);
    assert_eq!(std::fs::read_to_string(files.join("admin-token"))?.trim(), admin);
    drop(second);

    // A start without flags keeps the tokens in the files.
    let third = Server::start(&files, dir.path(), None, &[])?;
    assert_eq!(status_as(&third, app, "GET", "/v1/functions")?, 200);
    assert_eq!(send(&third, "GET", "/v1/functions", "", "")?.0, 401);
    Ok(())
}

/// Runs `cloudexec serve` expecting it to refuse to start; returns its stderr.
fn refused_start(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> anyhow::Result<String> {
    let port = common::free_port()?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_cloudexec"));
    common::clean_env(&mut command)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("data"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if child.try_wait()?.is_some() {
            let output = child.wait_with_output()?;
            anyhow::ensure!(!output.status.success(), "serve exited 0");
            return Ok(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    bail!("serve started although it should have refused {env:?} {args:?}")
}

#[test]
fn bad_tokens_at_start_are_clear_errors() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let empty = refused_start(dir.path(), &[("CLOUDEXEC_TOKEN", "")], &[])?;
    assert!(empty.contains("a token must not be empty"), "{empty}");
    let short = refused_start(dir.path(), &[], &["--token", "short"])?;
    assert!(short.contains("at least 16 characters"), "{short}");
    let same = refused_start(dir.path(), &[], &["--token", TOKEN, "--admin-token", TOKEN])?;
    assert!(same.contains("the admin token and the app token must differ"), "{same}");
    // An app token equal to the admin token of the previous start.
    drop(start_with(dir.path(), TOKEN, ADMIN)?);
    let taken = refused_start(dir.path(), &[], &["--token", ADMIN])?;
    assert!(taken.contains("the admin token and the app token must differ"), "{taken}");
    // An admin token that is still the app's token.
    let swapped = refused_start(dir.path(), &[], &["--token", "another-app-token-00000", "--admin-token", TOKEN])?;
    assert!(swapped.contains("this token already grants an app"), "{swapped}");
    Ok(())
}

#[cfg(unix)]
#[test]
fn the_data_dir_and_database_are_private() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir()?;
    let server = start_with(dir.path(), TOKEN, ADMIN)?;
    let data = dir.path().join("data");
    let mode =
        |name: &str| -> anyhow::Result<u32> { Ok(std::fs::metadata(data.join(name))?.permissions().mode() & 0o777) };
    assert_eq!(mode("")?, 0o700);
    for file in ["cloudexec.db", "cloudexec.db-wal", "token", "admin-token"] {
        assert_eq!(mode(file)?, 0o600, "{file}");
    }
    drop(server);
    Ok(())
}
