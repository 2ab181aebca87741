//! The tenant matrix: another app's token reaches none of an app's flows, executions,
//! bins, instances or bindings (404, as if they did not exist), no admin route, and
//! changes nothing of what the app stored.

use anyhow::Context;
use serde_json::Value;

use super::common::{Server, TOKEN, guest};
use super::{send, send_as};

const ADMIN: &str = "isolation-admin-token-0001";

#[test]
fn another_apps_token_reaches_nothing_of_an_app() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &["--admin-token", ADMIN])?;
    // App A: a flow with an execution, a bin with an instance, a binding.
    // It waits an hour: still running when the other app probes it.
    let flow = "Type: StateMachine\nSpecVersion: v1\nName: f\nStartAt: W\nStates:\n  - Name: W\n    Type: Wait\n    \
                Seconds: 3600\n    End: true\n";
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", flow)?;
    assert_eq!(status, 201, "{body}");
    let (_, body) = send(&server, "POST", "/v1/flows/f/executions", "application/json", r#"{"input":{}}"#)?;
    let execution = serde_json::from_str::<Value>(&body)?["execution_id"].as_str().context("no id")?.to_string();
    let uploaded = server.cli(&["bin", "upload", &guest("shop")?, "--json"])?.expect(0)?;
    let bin = serde_json::from_str::<Value>(&uploaded.stdout)?["binId"].as_str().context("no binId")?.to_string();
    let (_, body) = send(&server, "POST", "/v1/instances", "application/json", &format!(r#"{{"binId":"{bin}"}}"#))?;
    let instance = serde_json::from_str::<Value>(&body)?["executeInstanceId"].as_str().context("no id")?.to_string();
    let (status, _) =
        send(&server, "PUT", "/v1/bindings/k", "application/json", r#"{"url":"http://example.invalid/"}"#)?;
    assert_eq!(status, 200);

    let (_, body) = send_as(&server, ADMIN, "POST", "/v1/apps", "application/json", r#"{"name":"b"}"#)?;
    let b = serde_json::from_str::<Value>(&body)?["token"].as_str().context("no token")?.to_string();
    let instance_body = format!(r#"{{"binId":"{bin}"}}"#);
    let probes = [
        ("GET", "/v1/flows/f".to_string(), ""),
        ("PUT", "/v1/flows/f".to_string(), flow),
        ("DELETE", "/v1/flows/f".to_string(), ""),
        ("POST", "/v1/flows/f/executions".to_string(), "{}"),
        ("GET", "/v1/flows/f/executions".to_string(), ""),
        ("GET", format!("/v1/executions/{execution}"), ""),
        ("GET", format!("/v1/executions/{execution}/history"), ""),
        ("POST", format!("/v1/executions/{execution}/stop"), "{}"),
        ("GET", format!("/v1/bins/{bin}"), ""),
        ("POST", "/v1/instances".to_string(), instance_body.as_str()),
        ("GET", format!("/v1/instances/{instance}"), ""),
        ("POST", format!("/v1/instances/{instance}/runs"), r#"{"item":"x"}"#),
        ("GET", format!("/v1/instances/{instance}/path?stateMachineNo=1"), ""),
        ("DELETE", format!("/v1/instances/{instance}"), ""),
    ];
    for (method, path, body) in &probes {
        let content_type = if body.starts_with('{') { "application/json" } else { "text/yaml" };
        let (status, answer) = send_as(&server, &b, method, path, content_type, body)?;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    for (method, path) in
        [("GET", "/v1/apps"), ("GET", "/v1/apps/1/tokens"), ("GET", "/v1/apps/1/limits"), ("GET", "/metrics")]
    {
        let (status, _) = send_as(&server, &b, method, path, "", "")?;
        assert_eq!(status, 403, "{method} {path}");
    }
    let (_, bindings) = send_as(&server, &b, "GET", "/v1/bindings", "", "")?;
    assert!(!bindings.contains("example.invalid"), "{bindings}");
    let (_, flows) = send_as(&server, &b, "GET", "/v1/flows", "", "")?;
    assert!(flows.contains("\"total\":0"), "{flows}");

    // A's resources are all still there, unchanged.
    for path in [
        "/v1/flows/f".to_string(),
        format!("/v1/executions/{execution}"),
        format!("/v1/bins/{bin}"),
        format!("/v1/instances/{instance}"),
    ] {
        let (status, body) = send(&server, "GET", &path, "", "")?;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let view: Value = serde_json::from_str(&send(&server, "GET", &format!("/v1/executions/{execution}"), "", "")?.1)?;
    assert_eq!(view["status"], "Running", "not stopped by the other app");
    let (_, versions) = send(&server, "GET", "/v1/flows/f", "", "")?;
    assert!(versions.contains("\"version\":1"), "no version added by the other app: {versions}");
    Ok(())
}
