//! Stalled and idle connections are closed, the connection cap holds, a slow body gets a
//! 408, and the server serves others throughout. Deadlines are seconds apart from what
//! a test waits for, so a busy machine only makes the test slower.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::common::{Server, TOKEN};
use super::{healthy, send};

/// Longest a test waits for something the server does after a 2 s deadline.
const PATIENCE: Duration = Duration::from_secs(60);

fn start_limited(dir: &tempfile::TempDir) -> anyhow::Result<Server> {
    let flags = ["--max-connections", "16", "--header-timeout-secs", "2", "--body-timeout-secs", "2"];
    Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &flags)
}

fn connect(server: &Server) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect(server.url.trim_start_matches("http://"))?;
    stream.set_read_timeout(Some(PATIENCE))?;
    Ok(stream)
}

/// Reads until the server closes the connection; returns what it sent.
fn read_to_close(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut text = Vec::new();
    match stream.read_to_end(&mut text) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(e).context("the server did not close the connection"),
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

#[test]
fn half_sent_requests_are_closed_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_limited(&dir)?;
    // Three times the cap of connections, each stuck in the middle of its request head.
    let mut stalled = Vec::new();
    for _ in 0..48 {
        let mut stream = connect(&server)?;
        stream.write_all(b"POST /v1/functions HTTP/1.1\r\nHost: x\r\nX-Slow: ")?;
        stalled.push(stream);
    }
    // The later ones wait in the backlog until earlier ones time out; /healthz does too,
    // and gets through.
    healthy(&server)?;
    let started = Instant::now();
    for stream in &mut stalled {
        read_to_close(stream)?;
        anyhow::ensure!(started.elapsed() < PATIENCE * 2, "stalled connections were not closed");
    }
    healthy(&server)?;
    Ok(())
}

#[test]
fn a_body_that_never_finishes_gets_a_408_and_an_idle_keep_alive_connection_is_closed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_limited(&dir)?;
    let mut slow = connect(&server)?;
    let head = format!(
        "POST /v1/flows?name=slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: text/yaml\r\nContent-Length: 1000\r\n\r\ntasks:\n"
    );
    slow.write_all(head.as_bytes())?;
    let answer = read_to_close(&mut slow)?;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"RequestTimeout\""), "{answer}");

    let mut idle = connect(&server)?;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let answer = read_to_close(&mut idle)?;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("\"status\":\"ok\""), "{answer}");
    let (status, body) = send(&server, "GET", "/v1/flows", "", "")?;
    assert_eq!((status, body.contains("\"total\":0")), (200, true), "nothing was stored: {body}");
    Ok(())
}

#[test]
fn a_wrong_method_is_a_405_with_the_error_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_limited(&dir)?;
    let (status, body) = send(&server, "DELETE", "/v1/functions", "", "")?;
    assert_eq!(status, 405, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(error["code"], "MethodNotAllowed", "{body}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("DELETE")), "{body}");
    Ok(())
}

#[test]
fn an_oversized_request_head_is_a_431_with_the_error_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_limited(&dir)?;
    let mut stream = connect(&server)?;
    let big = "x".repeat(100 * 1024);
    stream.write_all(
        format!("GET /v1/functions HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let answer = read_to_close(&mut stream)?;
    assert!(answer.starts_with("HTTP/1.1 431"), "{}", &answer[..answer.len().min(300)]);
    assert!(answer.contains("\"code\":\"RequestHeaderFieldsTooLarge\""), "{answer}");
    let mut many = connect(&server)?;
    let headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    many.write_all(format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n").as_bytes())?;
    let answer = read_to_close(&mut many)?;
    assert!(answer.starts_with("HTTP/1.1 431") && answer.contains("RequestHeaderFieldsTooLarge"), "{answer}");
    healthy(&server)?;
    Ok(())
}
