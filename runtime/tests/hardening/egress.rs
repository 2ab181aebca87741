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
