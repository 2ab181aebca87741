//! Seed 003 (serverless workflow) as its client uses it: the `/fnf` actions on a state
//! machine (start, describe, stop, history), and old-format tasks naming a function-compute
//! ARN. Task tokens are in `seed003_task_tokens.rs`.

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::create_flow;
use crate::server::TestServer;

#[tokio::test]
async fn seed_003_start_describe_stop_and_history() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let definition = format!(
        "Type: StateMachine\nSpecVersion: v1\nName: my_flow_name\nStartAt: Work\nStates:\n  - Name: Work\n    Type: Task\n    \
         Resource: {}\n    Pattern: async\n    End: true\n",
        ep.url("/async?callback=never")
    );
    let action = |name: &str, body: Value| server.as_app(Method::POST, &format!("/fnf/{name}")).json(&body).send();
    let created: Value =
        action("CreateFlow", json!({"Name": "my_flow_name", "Definition": definition})).await?.json().await?;
    assert_eq!(created["Name"], "my_flow_name", "{created}");
    let start_body = json!({"FlowName": "my_flow_name", "ExecutionName": "my_exec_name", "Input": "{\"key\":\"value\"}", "RequestId": "testRequestId"});
    let started: Value = action("StartExecution", start_body.clone()).await?.json().await?;
    assert_eq!(started["RequestId"], "testRequestId");
    assert_eq!(started["Name"], "my_exec_name");
    assert_eq!(started["FlowName"], "my_flow_name");
    assert_eq!(started["Input"], "{\"key\":\"value\"}");
    assert!(started["FlowDefinition"].as_str().is_some_and(|d| d.contains("StateMachine")));
    assert!(started["StartedTime"].as_str().is_some_and(|t| t.ends_with('Z')));
    let again: Value = action("StartExecution", start_body.clone()).await?.json().await?;
    assert_eq!(again["ExecutionId"], started["ExecutionId"], "a running execution of that name is returned");
    let stopped: Value = action("StopExecution", json!({"FlowName": "my_flow_name", "ExecutionName": "my_exec_name"}))
        .await?
        .json()
        .await?;
    assert_eq!(stopped["Status"], "Stopped", "{stopped}");
    assert!(stopped["StoppedTime"].as_str().is_some());
    let conflict = action("StartExecution", start_body).await?;
    assert_eq!(conflict.status(), 400);
    let conflict: Value = conflict.json().await?;
    assert_eq!(conflict["Code"], "ExecutionAlreadyExists");
    assert!(conflict["RequestId"].is_string());
    let history: Value =
        action("GetExecutionHistory", json!({"FlowName": "my_flow_name", "ExecutionName": "my_exec_name"}))
            .await?
            .json()
            .await?;
    let kinds: Vec<&str> =
        history["Events"].as_array().map(|e| e.iter().filter_map(|e| e["Type"].as_str()).collect()).unwrap_or_default();
    assert_eq!(kinds.first(), Some(&"ExecutionStarted"), "{history}");
    assert_eq!(kinds.last(), Some(&"ExecutionStopped"), "{history}");
    for bad in ["1starts_with_a_digit", "has space", "dots.are.out", &"x".repeat(129)] {
        let refused = action("CreateFlow", json!({"Name": bad, "Definition": "Type: StateMachine"})).await?;
        assert_eq!(refused.status(), 400, "{bad}");
        assert_eq!(refused.json::<Value>().await?["Code"], "InvalidArgument", "{bad}");
        let start = json!({"FlowName": "my_flow_name", "ExecutionName": bad});
        assert_eq!(action("StartExecution", start).await?.status(), 400, "{bad}");
    }
    let unnamed: Value = action("StartExecution", json!({"FlowName": "my_flow_name"})).await?.json().await?;
    let generated = unnamed["Name"].as_str().unwrap_or_default();
    assert!(generated.starts_with("exec-"), "a generated name follows the seed's rule: {unnamed}");
    let missing = action("StartExecution", json!({"FlowName": "nope"})).await?;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await?["Code"], "FlowNotExists");
    let unknown = action("Fly", json!({})).await?;
    assert_eq!(unknown.json::<Value>().await?["Code"], "ActionNotSupported");
    server.stop().await?;
    Ok(())
}

/// `tests/corpus/fdl/<file>`.
fn fdl_corpus(file: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(cloudexec_tests::repo_root().join("tests/corpus/fdl").join(file))?)
}

#[tokio::test]
async fn old_format_tasks_with_a_function_compute_arn_run_the_app_s_function_of_that_name() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // Corpus FDL 13's one task is `acs:fc:::services/post-actions-service/functions/long-running`.
    assert_eq!(server.deploy("long-running", "hello").await?.status(), 201);
    create_flow(&server, "child", &fdl_corpus("13-post-actions-child.yaml")?).await?;
    let path = "/v1/flows/child/executions?sync=true&timeout_ms=20000";
    let view: Value =
        server.as_app(Method::POST, path).json(&json!({"input": {"name": "Ada"}})).send().await?.json().await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let jobs: Value =
        server.as_app(Method::GET, "/v1/functions/long-running/jobs?source=flow").send().await?.json().await?;
    assert_eq!(jobs["total"], 1, "{jobs}");
    assert_eq!(jobs["items"][0]["output"], json!({"greeting": "Hello, Ada!"}), "{jobs}");

    // Without a function of that name the task fails as a missing function would.
    create_flow(&server, "audit", &fdl_corpus("14-subflow-audit-child.yaml")?.replace("duration: 10", "duration: 0"))
        .await?;
    let view: Value = server
        .as_app(Method::POST, "/v1/flows/audit/executions?sync=true&timeout_ms=20000")
        .json(&json!({"input": {"auditMessage": "m"}}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(view["status"], "Failed", "{view}");
    let error = &view["errors"][0];
    assert_eq!(error["node_id"], "doAudit", "{view}");
    assert_eq!(error["error_message"], r#"FunctionNotFound: function "audit" does not exist"#, "{view}");
    server.stop().await?;
    Ok(())
}
