//! HTTP tasks: a URL `resourceName` is called with the task's mapped input. `task_sync`
//! uses the response as the output; `task_async` only starts the work (the body carries
//! `passthrough: {execution_id, task_name}` and an `X-Callback-Url` header names the
//! finish callback), and the output arrives later through `/flow/finish.json`.

use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::graph::HttpMethod;
use super::scheduler::ErrorInfo;

/// Longest an answer is quoted in an error.
const MAX_QUOTED_BYTES: usize = 1024;

/// One HTTP task call.
#[derive(Debug, Clone)]
pub struct HttpCall {
    /// The URL.
    pub url: String,
    /// GET or POST.
    pub method: HttpMethod,
    /// The mapped input: the JSON body, or `{query, header, body}` parts.
    pub input: Json,
    /// Longest the call may take.
    pub timeout: Duration,
    /// For async tasks: `(execution_id, task_name, callback_url)`.
    pub callback: Option<(String, String, String)>,
}

/// The parts of a request: an input whose only keys are `query`, `header` and `body`
/// is split into them (Rill Flow's `$.input.query.*` mappings); anything else is the body.
fn parts(input: &Json) -> (Map<String, Json>, Map<String, Json>, Option<Json>) {
    let structured = input
        .as_object()
        .filter(|o| !o.is_empty() && o.keys().all(|k| matches!(k.as_str(), "query" | "header" | "body")));
    let object = |v: Option<&Json>| v.and_then(Json::as_object).cloned().unwrap_or_default();
    match structured {
        Some(o) => (object(o.get("query")), object(o.get("header")), o.get("body").cloned()),
        None => (Map::new(), Map::new(), Some(input.clone())),
    }
}

fn text_of(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quoted(text: &str) -> &str {
    let mut end = text.len().min(MAX_QUOTED_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Makes the call (blocking); the answer's JSON body (or its text) is the output.
pub fn call(agent: &ureq::Agent, call: &HttpCall) -> Result<Json, ErrorInfo> {
    let (query, headers, body) = parts(&call.input);
    let url = &call.url;
    let unreachable = |e: ureq::Error| ErrorInfo::new("HTTP.ConnectionError", format!("{url}: {e}"));
    let result = match call.method {
        HttpMethod::Get => {
            let query = if query.is_empty() {
                body.as_ref().and_then(Json::as_object).cloned().unwrap_or_default()
            } else {
                query
            };
            let mut request = agent.get(url).config().timeout_global(Some(call.timeout)).build();
            for (k, v) in &query {
                request = request.query(k, text_of(v));
            }
            for (k, v) in &headers {
                request = request.header(k.as_str(), text_of(v));
            }
            request.call()
        }
        HttpMethod::Post => {
            let mut body = body.unwrap_or(Json::Object(Map::new()));
            let mut request = agent.post(url).config().timeout_global(Some(call.timeout)).build();
            if let Some((execution_id, task_name, callback_url)) = &call.callback {
                if let Some(object) = body.as_object_mut() {
                    let passthrough = serde_json::json!({ "execution_id": execution_id, "task_name": task_name });
                    object.insert("passthrough".into(), passthrough);
                }
                request = request.header("X-Callback-Url", callback_url.as_str());
            }
            for (k, v) in &query {
                request = request.query(k, text_of(v));
            }
            request = request.header("content-type", "application/json");
            for (k, v) in &headers {
                request = request.header(k.as_str(), text_of(v));
            }
            request.send(body.to_string())
        }
    };
    let mut response = result.map_err(unreachable)?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| ErrorInfo::new("HTTP.ConnectionError", format!("reading the answer of {url}: {e}")))?;
    if !status.is_success() {
        let cause = format!("{url} answered {status}: {}", quoted(&text));
        return Err(ErrorInfo::new(format!("HTTP.{}", status.as_u16()), cause));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Json::String(text)))
}

/// A shared agent: status codes are answers, not errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(5)))
        .build()
        .new_agent()
}
