//! Outbound calls: only http(s) URLs are accepted, and the egress policy refuses
//! loopback (and other non-public) addresses at connect time unless the server allows them.

use cloudexec_tests::endpoints::Endpoints;
use serde_json::Value;

use super::common::{Server, TOKEN};
use super::send;

/// A server whose egress allow-list does not cover loopback.
fn strict(dir: &tempfile::TempDir) -> anyhow::Result<Server> {
    Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &["--egress-allow", "192.0.2.1"])
}

fn one_http_task(name: &str, url: &str) -> String {
    format!(
        "dagName: {name}\ntasks:\n  - name: call\n    category: function\n    resourceName: {url}\n    pattern: task_sync\n"
    )
}

#[test]
fn http_tasks_cannot_reach_loopback_unless_allowed() -> anyhow::Result<()> {
    let ep = Endpoints::start()?;
    let dir = tempfile::tempdir()?;
    let server = strict(&dir)?;
    let by_name = ep.url("/flaky/by-name").replace("127.0.0.1", "localhost");
    for (flow, url) in [("direct", ep.url("/flaky/direct")), ("by-name", by_name)] {
        let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &one_http_task(flow, &url))?;
        assert_eq!(status, 201, "{body}");
        let path = format!("/v1/flows/{flow}/executions?sync=true&timeout_ms=60000");
        let (status, body) = send(&server, "POST", &path, "application/json", "{}")?;
        assert_eq!(status, 200, "{body}");
        let view: Value = serde_json::from_str(&body)?;
        assert_eq!(view["status"], "Failed", "{body}");
        assert!(body.contains("egress policy refuses") && body.contains("loopback"), "{body}");
    }
    assert_eq!((ep.seen.calls("direct"), ep.seen.calls("by-name")), (0, 0), "no call got through");

    // The same flow runs where loopback is allowed (the harness's default).
    let allowed_dir = tempfile::tempdir()?;
    let allowed = Server::start(&allowed_dir.path().join("data"), allowed_dir.path(), Some(TOKEN), &[])?;
    let (status, _) = send(&allowed, "POST", "/v1/flows", "text/yaml", &one_http_task("ok", &ep.url("/echo")))?;
    assert_eq!(status, 201);
    let (_, body) =
        send(&allowed, "POST", "/v1/flows/ok/executions?sync=true&timeout_ms=60000", "application/json", "{}")?;
    assert_eq!(serde_json::from_str::<Value>(&body)?["status"], "Succeeded", "{body}");
    Ok(())
}

/// A redirect is followed only to an address the policy allows: an endpoint the server
/// may call cannot send it on to one it may not.
#[test]
fn redirects_are_held_to_the_egress_policy() -> anyhow::Result<()> {
    let ep = Endpoints::start()?;
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &["--egress-allow", "127.0.0.1/32"])?;
    let port = ep.url("/").split(':').nth(2).unwrap_or_default().trim_end_matches('/').to_string();
    for (flow, target, expected) in
        [("onward", ep.url("/echo"), "Succeeded"), ("elsewhere", format!("http://127.0.0.2:{port}/echo"), "Failed")]
    {
        let url = format!("{}?to={}", ep.url("/redirect"), target.replace(':', "%3A").replace('/', "%2F"));
        let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &one_http_task(flow, &url))?;
        assert_eq!(status, 201, "{body}");
        let path = format!("/v1/flows/{flow}/executions?sync=true&timeout_ms=60000");
        let (_, body) = send(&server, "POST", &path, "application/json", "{}")?;
        assert_eq!(serde_json::from_str::<Value>(&body)?["status"], expected, "{flow}: {body}");
        if expected == "Failed" {
            assert!(body.contains("egress policy refuses"), "{flow}: {body}");
        }
    }
    Ok(())
}

#[test]
fn only_http_urls_with_a_host_are_accepted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = strict(&dir)?;
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &one_http_task("nohost", "http:///x"))?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("has no host") || body.contains("is not a URL"), "{body}");
    let pass = "dagName: p\ntasks:\n  - name: p\n    category: pass\n";
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", pass)?;
    assert_eq!(status, 201, "{body}");
    for callback in ["file:///etc/passwd", "gopher://example.com/", "http://"] {
        let start = serde_json::json!({"input": {}, "callback_url": callback}).to_string();
        let (status, body) = send(&server, "POST", "/v1/flows/p/executions", "application/json", &start)?;
        assert_eq!(status, 400, "{callback}: {body}");
    }
    for url in ["file:///etc/passwd", "http://"] {
        let binding = serde_json::json!({"url": url}).to_string();
        let (status, body) = send(&server, "PUT", "/v1/bindings/k", "application/json", &binding)?;
        assert_eq!(status, 400, "{url}: {body}");
    }
    let (_, body) = send(&server, "GET", "/v1/bindings", "", "")?;
    assert!(!body.contains("file:"), "nothing was stored: {body}");
    Ok(())
}

/// `--max-outbound-calls` caps the HTTP calls in flight across the server: a foreach of
/// eight slow calls, eight at a time, reaches the endpoint at most two at once, and all
/// eight still complete.
#[test]
fn outbound_calls_in_flight_are_capped() -> anyhow::Result<()> {
    let ep = Endpoints::start()?;
    let dir = tempfile::tempdir()?;
    let args = ["--max-outbound-calls", "2", "--max-tasks-per-execution", "8"];
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &args)?;
    let flow = format!(
        "dagName: capped\ntasks:\n  - name: each\n    category: foreach\n    \
         iterationMapping: {{collection: $.context.items, item: it}}\n    synchronization: {{maxConcurrency: 8}}\n    \
         tasks:\n      - {{name: call, category: function, resourceName: '{}', pattern: task_sync}}\n",
        ep.url("/slow/capped?ms=300")
    );
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &flow)?;
    assert_eq!(status, 201, "{body}");
    let input = serde_json::json!({"input": {"items": [1, 2, 3, 4, 5, 6, 7, 8]}}).to_string();
    let (_, body) =
        send(&server, "POST", "/v1/flows/capped/executions?sync=true&timeout_ms=120000", "application/json", &input)?;
    assert_eq!(serde_json::from_str::<Value>(&body)?["status"], "Succeeded", "{body}");
    assert_eq!(ep.seen.calls("capped"), 8);
    let most = ep.seen.max_running.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&most), "{most} calls were in flight at once");
    Ok(())
}
