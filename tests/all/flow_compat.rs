//! The errors every flow route gives for bad definitions, bad input, unknown ids and
//! other apps' resources. The seeds' own flows are in `seed002.rs`, `seed003.rs` and
//! `seed004.rs`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, start};
use crate::server::TestServer;

#[tokio::test]
async fn bad_definitions_and_bad_input_are_400_naming_task_and_field() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let cases = [
        (
            "version: 1\ntype: flow\ndagName: x\ntasks:\n  - {category: function, name: A, next: Z, resourceName: 'http://x', pattern: task_sync}\n",
            "\"A\"",
            "next",
        ),
        ("version: 1\ntype: flow\ndagName: x\ntasks:\n  - {category: teleport, name: A}\n", "\"A\"", "category"),
        (
            "version: 1\ntype: flow\ndagName: x\ntasks:\n  - {category: pass, name: A, next: B}\n  - {category: pass, name: B, next: A}\n",
            "\"",
            "cycle",
        ),
        (
            "version: 1\ntype: flow\ndagName: x\ntasks:\n  - {category: pass, name: A, inputMappings: [{target: '$.input[', source: $.context.a}]}\n",
            "\"A\"",
            "inputMappings",
        ),
        ("version: 1\ntype: flow\n  dagName: [\n", "", "YAML"),
    ];
    for (yaml, task, field) in cases {
        let answer = server
            .as_app(Method::POST, "/v1/flows?name=bad")
            .header("content-type", "text/yaml")
            .body(yaml)
            .send()
            .await?;
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await?;
        let message = body["message"].as_str().unwrap_or_default();
        assert_eq!(body["code"], "InvalidArgument");
        assert!(message.contains(task) && message.contains(field), "{message:?} should name {task} and {field}");
    }
    let listed: Value = server.as_app(Method::GET, "/v1/flows").send().await?.json().await?;
    assert_eq!(listed["total"], 0, "nothing is stored from a rejected definition");
    create_flow(&server, "ok", "version: 1\ntype: flow\ndagName: ok\ntasks:\n  - {category: pass, name: A}\n").await?;
    let (status, body) = start(&server, "ok", json!({ "input": [1, 2] })).await?;
    assert_eq!((status, body["code"].as_str()), (400, Some("InvalidArgument")));
    let (status, body) = start(&server, "missing", json!({ "input": {} })).await?;
    assert_eq!((status, body["code"].as_str()), (404, Some("FlowNotExists")));
    let malformed = server.as_app(Method::POST, "/v1/flows/ok/executions").body("{nope").send().await?;
    assert_eq!(malformed.status(), 400);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn another_apps_flows_and_executions_are_404() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    create_flow(&server, "mine", "version: 1\ntype: flow\ndagName: mine\ntasks:\n  - {category: pass, name: A}\n")
        .await?;
    let id = crate::flow_support::start_id(&server, "mine", json!({})).await?;
    let (_, other) = server.new_app("other").await?;
    for (method, path) in [
        (Method::GET, "/v1/flows/mine".to_string()),
        (Method::POST, "/v1/flows/mine/executions".to_string()),
        (Method::GET, format!("/v1/executions/{id}")),
        (Method::GET, format!("/v1/executions/{id}/history")),
        (Method::GET, format!("/flow/get.json?execution_id={id}")),
        (Method::POST, "/flow/submit.json?descriptor_id=mine".to_string()),
    ] {
        let answer = server.with_token(&other, method.clone(), &path).json(&json!({})).send().await?;
        assert_eq!(answer.status(), 404, "{method} {path}");
    }
    server.stop().await?;
    Ok(())
}
