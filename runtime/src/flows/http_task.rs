//! HTTP tasks: a URL `resourceName` is called with the task's mapped input. `task_sync`
//! uses the response as the output; `task_async` only starts the work (the body carries
//! `passthrough: {execution_id, task_name}`, an `X-Callback-Url` header names the finish
//! callback and `X-Mode: async` says so, as Rill Flow does), and the output arrives later
//! through `/flow/finish.json`.

use std::time::Duration;

use serde_json::{Map, Value as Json};

use super::data::MAX_ANSWER_BYTES;
use super::graph::HttpMethod;
use super::scheduler::ErrorInfo;
use crate::egress::EgressPolicy;

/// Longest an answer is quoted in an error.
const MAX_QUOTED_BYTES: usize = 1024;

/// A `header.content-type` of this type sends the body's fields as a form, not as JSON.
const FORM: &str = "application/x-www-form-urlencoded";

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
    /// The execution's headers, sent unless the task sets the same one itself.
    pub headers: Vec<(String, String)>,
}

/// The parts of a request: an input whose only keys are `query`, `header` and `body`
/// is split into them (Rill Flow's `$.input.query.*` mappings); anything else is the body.
/// The body is sent as JSON unless the headers give another content type; with
/// `application/x-www-form-urlencoded` its fields are form-encoded.
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

/// Makes the call on `client` (flows call through [`super::outbound::Outbound`]); the
/// answer's JSON body (or its text) is the output. An answer over [`MAX_ANSWER_BYTES`] is
/// an error, not read further.
pub(super) async fn send(client: &reqwest::Client, egress: &EgressPolicy, call: &HttpCall) -> Result<Json, ErrorInfo> {
    let url = &call.url;
    let unreachable = |e: String| ErrorInfo::new("HTTP.ConnectionError", format!("{url}: {e}"));
    let parsed = reqwest::Url::parse(url).map_err(|e| unreachable(e.to_string()))?;
    egress.check_literal(&parsed).map_err(unreachable)?;
    // The call's deadline is the task's timeout: running out of it is the same
    // `States.Timeout` whether the client or the scheduler's timer sees it first.
    let timed_out = |e: &reqwest::Error| {
        ErrorInfo::new("States.Timeout", format!("{url} did not answer within {:?}: {}", call.timeout, error_chain(e)))
    };
    let request = build(client, parsed, call);
    let mut response =
        request.send().await.map_err(|e| if e.is_timeout() { timed_out(&e) } else { unreachable(error_chain(&e)) })?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| match e.is_timeout() {
        true => timed_out(&e),
        false => ErrorInfo::new("HTTP.ConnectionError", format!("reading the answer of {url}: {}", error_chain(&e))),
    })? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            let cause = format!("{url} answered more than {} KiB", MAX_ANSWER_BYTES >> 10);
            return Err(ErrorInfo::new("States.DataLimitExceeded", cause));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if !status.is_success() {
        let cause = format!("{url} answered {status}: {}", quoted(&text));
        return Err(ErrorInfo::new(format!("HTTP.{}", status.as_u16()), cause));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Json::String(text)))
}

/// The request for `call`: its query, headers and body (see [`parts`]).
fn build(client: &reqwest::Client, url: reqwest::Url, call: &HttpCall) -> reqwest::RequestBuilder {
    let (query, headers, body) = parts(&call.input);
    let texts = |map: &Map<String, Json>| map.iter().map(|(k, v)| (k.clone(), text_of(v))).collect::<Vec<_>>();
    let mut request = match call.method {
        HttpMethod::Get => {
            let query = if query.is_empty() {
                body.as_ref().and_then(Json::as_object).cloned().unwrap_or_default()
            } else {
                query.clone()
            };
            client.get(url).query(&texts(&query))
        }
        HttpMethod::Post => client.post(url).query(&texts(&query)),
    };
    request = request.timeout(call.timeout);
    for (k, v) in &call.headers {
        if !headers.keys().any(|own| own.eq_ignore_ascii_case(k)) {
            request = request.header(k.as_str(), v.as_str());
        }
    }
    for (k, v) in texts(&headers) {
        request = request.header(k, v);
    }
    if call.method == HttpMethod::Get {
        return request;
    }
    let mut body = body.unwrap_or(Json::Object(Map::new()));
    if let Some((execution_id, task_name, callback_url)) = &call.callback {
        if let Some(object) = body.as_object_mut() {
            let passthrough = serde_json::json!({ "execution_id": execution_id, "task_name": task_name });
            object.insert("passthrough".into(), passthrough);
        }
        // Rill Flow marks async calls so one endpoint can serve both patterns.
        request = request.header("X-Callback-Url", callback_url.as_str()).header("X-Mode", "async");
    }
    let content_type = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| text_of(v));
    let form = content_type.as_deref().is_some_and(|t| t.trim().to_ascii_lowercase().starts_with(FORM));
    match body.as_object().filter(|_| form) {
        Some(fields) => request.form(&texts(fields)),
        None if content_type.is_none() => request.header("content-type", "application/json").body(body.to_string()),
        None => request.body(body.to_string()),
    }
}

/// An error with its sources (reqwest's own message alone is often just "error sending
/// request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use serde_json::json;

    use super::*;

    /// Makes `call` against a one-shot server on 127.0.0.1; returns the raw request it got.
    fn raw_request(input: Json, callback: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/t", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut head, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let answer =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
            (&stream).write_all(answer.as_bytes()).unwrap();
            head + &String::from_utf8(body).unwrap()
        });
        let callback = callback.then(|| ("e1".to_string(), "t1".to_string(), "http://cb/finish".to_string()));
        let call = HttpCall {
            url,
            method: HttpMethod::Post,
            input,
            timeout: Duration::from_secs(5),
            callback,
            headers: Vec::new(),
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let open = EgressPolicy::open();
        let client = open.client(Duration::from_secs(5));
        assert_eq!(rt.block_on(super::send(&client, &open, &call)).unwrap(), json!({}));
        server.join().unwrap()
    }

    fn header_values<'a>(request: &'a str, name: &str) -> Vec<&'a str> {
        request
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }

    #[test]
    fn a_form_content_type_header_sends_the_body_as_a_form_and_only_that_content_type() {
        let input = json!({
            "header": {"content-type": "application/x-www-form-urlencoded"},
            "query": {"user": "Bob"},
            "body": {"title": "a b&c"}
        });
        let request = raw_request(input, false);
        assert!(request.starts_with("POST /t?user=Bob "), "{request}");
        assert_eq!(header_values(&request, "content-type"), vec!["application/x-www-form-urlencoded"], "{request}");
        assert!(request.ends_with("\r\n\r\ntitle=a+b%26c"), "{request}");
    }

    #[test]
    fn a_plain_body_is_json_and_async_calls_say_so() {
        let request = raw_request(json!({"x": 1}), true);
        assert_eq!(header_values(&request, "content-type"), vec!["application/json"], "{request}");
        assert_eq!(header_values(&request, "x-mode"), vec!["async"], "{request}");
        assert_eq!(header_values(&request, "x-callback-url"), vec!["http://cb/finish"], "{request}");
        let body: Json = serde_json::from_str(request.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body, json!({"x": 1, "passthrough": {"execution_id": "e1", "task_name": "t1"}}));
        assert!(header_values(&raw_request(json!({"x": 1}), false), "x-mode").is_empty());
    }
}
