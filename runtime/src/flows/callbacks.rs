//! Callbacks in both directions: the URL an async task is told to call when it finishes,
//! the rule for reading that call's body (Rill Flow's), and the POST an ended execution
//! owes its own callback URL.

use serde_json::{Value as Json, json};

use super::running::Running;
use super::scheduler::ErrorInfo;
use crate::error::ServiceError;

/// Where async tasks report their result (seed 002's route, served by every server).
pub const FINISH_PATH: &str = "/flow/finish.json";

/// The finish URL of task `key` of execution `id`, under the server's base URL.
pub fn finish_url(base: &str, id: &str, key: &str) -> String {
    format!("{}{FINISH_PATH}?executionId={}&taskName={}", base.trim_end_matches('/'), encode(id), encode(key))
}

/// The result of a finish callback body (Rill Flow's rules): `result_type` is `SUCCESS`
/// (the default) or `FAIL`; the task's output is `response` when the body has one, else
/// the whole body without `result_type` and `passthrough`.
pub fn finish_result(body: &Json) -> Result<Result<Json, ErrorInfo>, ServiceError> {
    let invalid = |m: String| ServiceError::InvalidArgument(m);
    let object = body.as_object().ok_or_else(|| invalid("the callback body must be a JSON object".into()))?;
    let output = match object.get("response") {
        Some(response) => response.clone(),
        None => {
            let mut rest = object.clone();
            rest.remove("result_type");
            rest.remove("passthrough");
            Json::Object(rest)
        }
    };
    match object.get("result_type").map(|t| t.as_str().map(str::to_ascii_uppercase)) {
        None => Ok(Ok(output)),
        Some(Some(t)) if t == "SUCCESS" => Ok(Ok(output)),
        Some(Some(t)) if t == "FAIL" || t == "FAILED" => {
            let error = output.get("error").and_then(Json::as_str).unwrap_or("TaskFailed").to_string();
            let cause = match &output {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            Ok(Err(ErrorInfo::new(error, cause)))
        }
        other => Err(invalid(format!("result_type must be SUCCESS or FAIL, not {:?}", other.flatten()))),
    }
}

/// The POST an ended execution owes its callback URL.
pub(super) struct CallbackPost {
    pub(super) execution: String,
    pub(super) url: String,
    pub(super) body: Json,
}

impl CallbackPost {
    /// The POST for `run`, if it has a callback URL.
    pub(super) fn of(run: &Running) -> Option<Self> {
        let url = run.callback_url.clone()?;
        let body = json!({
            "execution_id": run.id,
            "status": run.state.status.as_str(),
            "output": run.state.output,
            "error": run.state.error,
        });
        Some(Self { execution: run.id.clone(), url, body })
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
