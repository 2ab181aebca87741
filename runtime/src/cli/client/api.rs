//! The HTTP side of the client commands: one blocking agent, the bearer token, and the
//! server's answers mapped to exit codes.

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::ClientFlags;
use crate::cli::{CliError, ExitCode};
use crate::server::{ADMIN_TOKEN_FILE, APP_TOKEN_FILE};

/// Largest answer read (logs and job pages stay far below it).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;
/// How long to wait for a connection; a refused one fails at once.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server as the client sees it.
#[derive(Debug)]
pub(super) struct Api {
    agent: ureq::Agent,
    /// Base URL without a trailing `/`.
    pub base: String,
    token: String,
    /// Whether `--json` was given (error answers are then printed as is too).
    pub json: bool,
}

/// What a request sends.
#[derive(Debug, Clone, Copy)]
pub(super) enum Send<'a> {
    /// A GET.
    Get,
    /// A POST with a body of this content type.
    Post(&'static str, &'a [u8]),
    /// A PATCH with a body of this content type.
    Patch(&'static str, &'a [u8]),
    /// A PUT with a body of this content type.
    Put(&'static str, &'a [u8]),
    /// A DELETE.
    Delete,
}

/// One answer of the server: status and body text.
#[derive(Debug)]
pub(super) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, CliError> {
        serde_json::from_str(&self.body).map_err(|e| internal(format!("unexpected answer from the server: {e}")))
    }
}

impl Api {
    /// The server and token the flags name.
    pub fn new(flags: &ClientFlags) -> Result<Self, CliError> {
        let token = token(flags.token.as_deref(), &flags.data_dir, APP_TOKEN_FILE, "--token nor CLOUDEXEC_TOKEN")?;
        Ok(Self::connect(&flags.server, token, flags.json))
    }

    /// The server with the admin token: the one given, else `<data_dir>/admin-token`.
    pub fn admin(server: &str, given: Option<&str>, data_dir: &Path, json: bool) -> Result<Self, CliError> {
        let token = token(given, data_dir, ADMIN_TOKEN_FILE, "--admin-token nor CLOUDEXEC_ADMIN_TOKEN")?;
        Ok(Self::connect(server, token, json))
    }

    fn connect(server: &str, token: String, json: bool) -> Self {
        let config =
            ureq::Agent::config_builder().http_status_as_error(false).timeout_connect(Some(CONNECT_TIMEOUT)).build();
        Self { agent: config.into(), base: server.trim_end_matches('/').to_string(), token, json }
    }

    /// Sends a request to `path` (already encoded) with `query` pairs (encoded here).
    pub fn send(&self, path: &str, query: &[(&str, String)], send: Send<'_>) -> Result<Answer, CliError> {
        let url = format!("{}{path}", self.base);
        let pairs = query.iter().map(|(k, v)| (*k, v.as_str()));
        let bearer = format!("Bearer {}", self.token);
        let result = match send {
            Send::Get => self.agent.get(&url).header("authorization", &bearer).query_pairs(pairs).call(),
            Send::Post(content_type, body) => {
                let req = self.agent.post(&url).header("authorization", &bearer).query_pairs(pairs);
                req.content_type(content_type).send(body)
            }
            Send::Patch(content_type, body) => {
                let req = self.agent.patch(&url).header("authorization", &bearer).query_pairs(pairs);
                req.content_type(content_type).send(body)
            }
            Send::Put(content_type, body) => {
                let req = self.agent.put(&url).header("authorization", &bearer).query_pairs(pairs);
                req.content_type(content_type).send(body)
            }
            Send::Delete => self.agent.delete(&url).header("authorization", &bearer).query_pairs(pairs).call(),
        };
        let mut response = result.map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_string();
        Ok(Answer { status, body: body.map_err(|e| self.unreachable(&e))? })
    }

    /// Follows the server-sent events at `path`: calls `on_event(kind, data)` for each until
    /// it answers `false` or the stream ends. A refusal is the server's error.
    pub fn follow_events(&self, path: &str, mut on_event: impl FnMut(&str, &str) -> bool) -> Result<(), CliError> {
        use std::io::BufRead;
        let url = format!("{}{path}", self.base);
        let bearer = format!("Bearer {}", self.token);
        let request = self.agent.get(&url).header("authorization", &bearer).header("accept", "text/event-stream");
        let response = request.call().map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        if status != 200 {
            let text = body.with_config().limit(MAX_ANSWER_BYTES).read_to_string().unwrap_or_default();
            return Err(self.refused(&Answer { status, body: text }));
        }
        let (mut kind, mut data) = (String::from("message"), String::new());
        for line in std::io::BufReader::new(body.into_reader()).lines() {
            let line = line.map_err(|e| internal(format!("the event stream broke off: {e}")))?;
            if line.is_empty() {
                if !data.is_empty() && !on_event(&kind, &data) {
                    return Ok(());
                }
                (kind, data) = (String::from("message"), String::new());
            } else if let Some(value) = line.strip_prefix("event:") {
                kind = value.trim().to_string();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim_start());
            }
        }
        Ok(())
    }

    /// A GET that must succeed, decoded.
    pub fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<(T, Answer), CliError> {
        let answer = self.send(path, query, Send::Get)?;
        let answer = self.expect_ok(answer)?;
        Ok((answer.decode()?, answer))
    }

    /// The answer if it is 2xx; otherwise the server's error with its exit code.
    pub fn expect_ok(&self, answer: Answer) -> Result<Answer, CliError> {
        if answer.ok() { Ok(answer) } else { Err(self.refused(&answer)) }
    }

    /// The server's `{"code", "message"}` as an error with the status's exit code; with
    /// `--json` the body is also printed as is.
    pub fn refused(&self, answer: &Answer) -> CliError {
        let error = serde_json::from_str::<Json>(&answer.body).ok();
        if self.json && error.is_some() {
            println!("{}", answer.body);
        }
        let code = error.as_ref().and_then(|e| e["code"].as_str()).unwrap_or_default();
        let message = match (code, error.as_ref().and_then(|e| e["message"].as_str())) {
            ("", _) | (_, None) => format!("HTTP {}: {}", answer.status, snippet(&answer.body)),
            (code, Some(message)) => format!("{code}: {message}"),
        };
        CliError { message, code: exit_code(answer.status, code) }
    }

    fn unreachable(&self, error: &ureq::Error) -> CliError {
        internal(format!("cannot reach the cloudexec server at {}: {error}", self.base))
    }
}

/// The exit code of a refused request (deploy turns 400 and 413 into [`ExitCode::ModuleRejected`]).
fn exit_code(status: u16, code: &str) -> ExitCode {
    match status {
        400 | 413 => ExitCode::Input,
        404 if code.ends_with("NotExists") => ExitCode::NotFound,
        429 => ExitCode::Busy,
        _ => ExitCode::Internal,
    }
}

/// The token: the one given, else the one in `<data_dir>/<file>`.
fn token(given: Option<&str>, data_dir: &Path, file: &str, flags: &str) -> Result<String, CliError> {
    if let Some(token) = given.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(token.to_string());
    }
    let path = data_dir.join(file);
    let why = match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => "it is empty".to_string(),
        Err(e) => e.to_string(),
    };
    Err(CliError::input(format!(
        "no token found: neither {flags} is set, and {} cannot be used ({why}); \
         pass --data-dir of the server or the token",
        path.display()
    )))
}

/// Percent-encodes one path segment.
pub(super) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The first few hundred characters of a body that is not our error shape.
fn snippet(body: &str) -> String {
    let text: String = body.trim().chars().take(300).collect();
    if text.is_empty() { "(empty body)".to_string() } else { text }
}

pub(super) fn internal(message: impl Into<String>) -> CliError {
    CliError { message: message.into(), code: ExitCode::Internal }
}
