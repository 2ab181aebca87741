//! Seed 004 (FunctionGraph workflows) as its client uses it: the sync execution with the
//! seed's `headers`, `project_id` form and time format.

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, deploy_sample_functions};
use crate::server::TestServer;

#[tokio::test]
async fn seed_004_sync_execution() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    deploy_sample_functions(&server).await?;
    let sample = std::fs::read_to_string(cloudexec_tests::repo_root().join("examples/flows/sample.yaml"))?;
    create_flow(&server, "wf", &sample).await?;
    let path = "/v2/0123456789abcdef0123456789abcdef/fgs/workflows/wf/sync-executions";
    let body = json!({"headers": {"tenantid": "user1"}, "input": {"left": 2, "right": 3}});
    let answer: Value = server.as_app(Method::POST, path).json(&body).send().await?.json().await?;
    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(answer["output"]["result_number"], 5);
    assert!(answer["execution_id"].is_string());
    // The seed's time format: `yyyy-mm-ddThh:mm:ssZ`, whole seconds.
    for time in [&answer["begin_time"], &answer["end_time"]] {
        let text = time.as_str().unwrap_or_default();
        assert!(text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T', "{answer}");
    }
    assert_eq!(answer["errors"], json!([]));
    let bad_project = server.as_app(Method::POST, "/v2/p/fgs/workflows/wf/sync-executions").json(&body).send().await?;
    assert_eq!(bad_project.status(), 400, "the seed's project_id is 32 letters and digits");
    assert!(bad_project.json::<Value>().await?["error_msg"].as_str().unwrap_or_default().contains("project_id"));
    let nope = "/v2/0123456789abcdef0123456789abcdef/fgs/workflows/nope/sync-executions";
    let missing = server.as_app(Method::POST, nope).json(&body).send().await?;
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await?;
    assert_eq!(error["error_code"], "FlowNotExists");
    assert!(error["error_msg"].is_string());
    let bad = server.as_app(Method::POST, path).json(&json!({"headers": {}})).send().await?;
    assert_eq!(bad.status(), 400);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn seed_004_headers_reach_http_tasks_and_mappings() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    assert_eq!(server.deploy("hello", "hello").await?.status(), 201);
    let headers_url = ep.url("/headers");
    let flow = format!(
        "version: 1\nworkspace: t\ndagName: hdr\ntype: flow\ntasks:\n\
  - {{category: function, name: call, resourceName: \"{headers_url}\", pattern: task_sync, next: own,\n\
     outputMappings: [{{target: $.context.seen, source: $.output}}]}}\n\
  - {{category: function, name: own, resourceName: \"{headers_url}\", pattern: task_sync, next: greet,\n\
     inputMappings: [{{target: $.input.header.tenantid, source: mine}}, {{target: $.input.body.x, source: 1}}],\n\
     outputMappings: [{{target: $.context.own, source: $.output}}]}}\n\
  - {{category: function, name: greet, resourceName: function://hello, pattern: task_sync,\n\
     inputMappings: [{{target: $.input.name, source: $.headers.tenantid}}],\n\
     outputMappings: [{{target: $.context.greeting, source: $.output.greeting}}]}}\n"
    );
    create_flow(&server, "hdr", &flow).await?;
    let path = "/v2/0123456789abcdef0123456789abcdef/fgs/workflows/hdr/sync-executions";
    let body = json!({"headers": {"tenantid": "user1", "x-trace": 7}, "input": {}});
    let answer: Value = server.as_app(Method::POST, path).json(&body).send().await?.json().await?;
    assert_eq!(answer["status"], "success", "{answer}");
    let output = &answer["output"];
    assert_eq!((&output["seen"]["tenantid"], &output["seen"]["x-trace"]), (&json!("user1"), &json!("7")), "{answer}");
    assert_eq!(output["own"]["tenantid"], "mine", "a task's own header wins: {answer}");
    assert_eq!(output["greeting"], "Hello, user1!", "a function task reads them through a mapping: {answer}");
    for bad in [json!({"bad name": "x"}), json!({"x": {"nested": 1}}), json!([1]), json!({"x": "a\r\nb: c"})] {
        let refused = server.as_app(Method::POST, path).json(&json!({"headers": bad, "input": {}})).send().await?;
        assert_eq!(refused.status(), 400, "{bad}");
        assert!(refused.json::<Value>().await?["error_msg"].is_string());
    }
    server.stop().await?;
    Ok(())
}
