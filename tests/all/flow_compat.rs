//! Flows over the compatible APIs (seeds 002, 003, 004) and the errors every flow route
//! gives for bad definitions, bad input, unknown ids and other apps' resources.

use std::time::Duration;

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, deploy_sample_functions, start, wait_end};
use crate::server::TestServer;

/// Seed 002's descriptor, verbatim apart from indentation and the two resource names.
fn seed_descriptor(start_node: &str, end_node: &str) -> String {
    format!(
        r#"---
version: 20230829
workspace: demoFlowTest
dagName: demoTest
type: flow
tasks:
- category: function
  name: startNode
  next: endNode
  resourceName: {start_node}
  pattern: task_sync
  inputMappings:
  - target: $.input.right
    source: $.context.right
  - target: $.input.left
    source: $.context.left
  outputMappings:
  - target: $.context.result_number
    source: $.output.result_number
- category: function
  name: endNode
  resourceName: {end_node}
  pattern: task_sync
  inputMappings:
  - target: $.input.result_number
    source: $.context.result_number
  - target: $.input.expect_number
    source: $.context.result_number
"#
    )
}

async fn rill_get(server: &TestServer, id: &str) -> anyhow::Result<Value> {
    for _ in 0..400 {
        let got: Value =
            server.as_app(Method::GET, &format!("/flow/get.json?execution_id={id}")).send().await?.json().await?;
        if got["ret"]["dag_status"] != "RUNNING" {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("execution {id} did not end")
}

async fn seed002_round_trip(server: &TestServer, descriptor: String) -> anyhow::Result<Value> {
    let added: Value = server
        .as_app(Method::POST, "/flow/bg/manage/descriptor/add_descriptor.json?business_id=demoFlowTest&feature_name=demoFlowTest&alias=release")
        .header("content-type", "text/plain")
        .body(descriptor)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(added["ret"], true, "{added}");
    assert_eq!(added["descriptor_id"], "demoFlowTest:demoTest");
    let submitted: Value = server
        .as_app(Method::POST, "/flow/submit.json?descriptor_id=demoFlowTest:demoTest")
        .json(&json!({"left": 512, "right": 512}))
        .send()
        .await?
        .json()
        .await?;
    let id = submitted["execution_id"].as_str().unwrap_or_default().to_string();
    assert!(!id.is_empty(), "{submitted}");
    rill_get(server, &id).await
}

#[tokio::test]
async fn the_seed_002_example_runs_with_http_and_with_wasm_tasks() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let got = seed002_round_trip(&server, seed_descriptor(&ep.url("/start_node"), &ep.url("/end_node"))).await?;
    let ret = &got["ret"];
    assert_eq!(ret["dag_status"], "SUCCEED", "{got}");
    assert_eq!(ret["process"], 100);
    assert_eq!(ret["tasks"]["startNode"]["status"], "SUCCEED");
    assert_eq!(ret["tasks"]["startNode"]["next"], json!(["endNode"]));
    assert_eq!(ret["tasks"]["startNode"]["contains_sub"], false);
    assert_eq!(ret["tasks"]["startNode"]["task"]["pattern"], "task_sync");
    assert_eq!(ret["tasks"]["endNode"]["status"], "SUCCEED");
    assert_eq!(ret["context"]["result_number"], 1024);
    deploy_sample_functions(&server).await?;
    let wasm = seed_descriptor("function://flow-start-node", "function://flow-end-node");
    let got = seed002_round_trip(&server, wasm).await?;
    assert_eq!(got["ret"]["dag_status"], "SUCCEED", "{got}");
    assert_eq!(got["ret"]["tasks"]["endNode"]["output"]["result_number"], 1024);
    let brief: Value = server
        .as_app(
            Method::GET,
            &format!(
                "/flow/get.json?execution_id={}&brief=true",
                got["ret"]["execution_id"].as_str().unwrap_or_default()
            ),
        )
        .send()
        .await?
        .json()
        .await?;
    assert!(brief["ret"].get("tasks").is_none(), "{brief}");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn finish_callbacks_for_unknown_executions_or_tasks_are_404() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        "version: 1\nworkspace: t\ndagName: cb\ntype: flow\ntasks:\n  - {{category: function, name: worker, pattern: task_async, resourceName: \"{}\"}}\n",
        ep.url("/async?callback=never")
    );
    create_flow(&server, "cb", &yaml).await?;
    let (_, started) = start(&server, "cb", json!({ "input": {} })).await?;
    let id = started["execution_id"].as_str().unwrap_or_default().to_string();
    let finish = |query: String| server.client.post(server.url(&format!("/flow/finish.json?{query}")));
    let body = json!({ "result_type": "SUCCESS", "response": { "x": 1 } });
    let unknown = finish("executionId=nope&taskName=worker".into()).json(&body).send().await?;
    assert_eq!(unknown.status(), 404);
    // The task must have been accepted first; wait until the worker saw the call.
    for _ in 0..100 {
        if ep.seen.async_calls.lock().map(|c| !c.is_empty()).unwrap_or(false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let no_task = finish(format!("executionId={id}&taskName=ghost")).json(&body).send().await?;
    assert_eq!(no_task.status(), 404);
    let bad = finish(format!("executionId={id}&taskName=worker")).json(&json!({"result_type": "MAYBE"})).send().await?;
    assert_eq!(bad.status(), 400);
    let ok: Value = finish(format!("executionId={id}&taskName=worker")).json(&body).send().await?.json().await?;
    assert_eq!(ok, json!({ "result": "ok" }));
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let again = finish(format!("executionId={id}&taskName=worker")).json(&body).send().await?;
    assert_eq!(again.status(), 404, "the execution ended");
    server.stop().await?;
    Ok(())
}

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
