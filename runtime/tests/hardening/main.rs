//! Requests and starts that used to crash, stall or weaken the real `cloudexec serve`
//! (issue 10): each gets a clear answer and the server keeps serving everyone else.

#[path = "../common/mod.rs"]
mod common;

mod connections;
mod definitions;
mod egress;
mod isolation;
mod jobs;
mod storage;
mod tenants;
mod tokens;

use anyhow::Context;
use common::{Server, TOKEN};

/// One request with `token`; any status comes back as `(status, body)`.
pub fn send_as(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}{path}", server.url);
    let auth = format!("Bearer {token}");
    let mut answer = match method {
        "GET" => agent.get(&url).header("authorization", &auth).call(),
        "DELETE" => agent.delete(&url).header("authorization", &auth).call(),
        "PUT" => agent.put(&url).header("authorization", &auth).header("content-type", content_type).send(body),
        _ => agent.post(&url).header("authorization", &auth).header("content-type", content_type).send(body),
    }
    .with_context(|| format!("{method} {path}"))?;
    Ok((answer.status().as_u16(), answer.body_mut().read_to_string()?))
}

/// One request with the app token.
pub fn send(
    server: &Server,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    send_as(server, TOKEN, method, path, content_type, body)
}

/// Fails unless `/healthz` answers 200.
pub fn healthy(server: &Server) -> anyhow::Result<()> {
    let (status, body) = send(server, "GET", "/healthz", "", "")?;
    anyhow::ensure!(status == 200, "healthz answered {status}: {body}");
    Ok(())
}

/// A server on a fresh data dir in `dir`, with the test token.
pub fn start(dir: &tempfile::TempDir) -> anyhow::Result<Server> {
    Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &[])
}
