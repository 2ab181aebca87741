//! Seed 003's task tokens: a `waitForCallback` task hands its token to its function
//! (`$context.task.token`); a client finishes the task with `ReportTaskSucceeded` or
//! `ReportTaskFailed`, or an execution started with `CallbackFnFTaskToken` finishes it
//! when it ends. Tokens are refused when unknown, altered, or another app's.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, execution, start_id, task, wait_end};
use crate::server::TestServer;

/// One `waitForCallback` task whose function (`hello`, deployed as `starter`) gets the
/// token; `MyError` is caught and goes to `handled`.
const WAITER: &str = "version: v1beta1
type: flow
steps:
  - type: task
    name: wait
    resourceArn: acs:fc:::services/s/functions/starter
    pattern: waitForCallback
    inputMappings:
      - target: taskToken
        source: $context.task.token
      - target: item
        source: $input.item
    outputMappings:
      - target: result
        source: $local.value
    catch:
      - errors:
          - MyError
        goto: handled
  - type: pass
    name: done
    end: true
  - type: pass
    name: handled
";

async fn fnf(server: &TestServer, token: &str, action: &str, body: Value) -> anyhow::Result<(u16, Value)> {
    let answer = server.with_token(token, Method::POST, &format!("/fnf/{action}")).json(&body).send().await?;
    Ok((answer.status().as_u16(), answer.json().await?))
}

/// The task tokens `starter` was called with so far, by the `item` or `key` of its input.
async fn tokens_given(server: &TestServer, want: usize) -> anyhow::Result<Vec<(String, String)>> {
    for _ in 0..400 {
        let jobs: Value =
            server.as_app(Method::GET, "/v1/functions/starter/jobs?source=flow").send().await?.json().await?;
        let given: Vec<(String, String)> = jobs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|j| {
                let input = &j["input"];
                let which = input["item"].as_str().or_else(|| input["key"].as_str())?;
                Some((which.to_string(), input["taskToken"].as_str()?.to_string()))
            })
            .collect();
        if given.len() >= want {
            return Ok(given);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("starter was not called {want} times")
}

fn token_of<'a>(given: &'a [(String, String)], which: &str) -> &'a str {
    given.iter().find(|(w, _)| w == which).map_or("", |(_, t)| t.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_tasks_finish_by_report_and_refuse_foreign_or_forged_tokens() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    assert_eq!(server.deploy("starter", "hello").await?.status(), 201);
    create_flow(&server, "waiter", WAITER).await?;
    let ok = start_id(&server, "waiter", json!({"item": "ok"})).await?;
    let caught = start_id(&server, "waiter", json!({"item": "caught"})).await?;
    let uncaught = start_id(&server, "waiter", json!({"item": "uncaught"})).await?;
    let given = tokens_given(&server, 3).await?;
    let token = token_of(&given, "ok");
    assert!(token.starts_with("tt1."), "the function got a task token: {given:?}");
    assert_eq!(execution(&server, &ok).await?["status"], "Running", "it waits for the report");

    // Refused: another app's caller, an altered token, a made-up one; nothing changes.
    let (_, other) = server.new_app("b").await?;
    let report = json!({"TaskToken": token, "Output": "{\"value\": 42}"});
    let (status, body) = fnf(&server, &other, "ReportTaskSucceeded", report.clone()).await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["Code"], "InvalidArgument", "{body}");
    let mut altered = token.to_string();
    let last = altered.pop().unwrap_or('A');
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for forged in [altered.as_str(), "tt1.e30.AAAA", "12"] {
        let (status, body) =
            fnf(&server, crate::server::APP_TOKEN, "ReportTaskSucceeded", json!({"TaskToken": forged})).await?;
        assert_eq!(status, 400, "{forged}: {body}");
        assert!(body["RequestId"].is_string(), "{body}");
    }
    let (status, body) = fnf(&server, crate::server::APP_TOKEN, "ReportTaskSucceeded", json!({})).await?;
    assert_eq!((status, body["Code"].as_str()), (400, Some("MissingRequiredParams")), "{body}");
    assert_eq!(execution(&server, &ok).await?["status"], "Running", "nothing was reported");

    // Succeeded: the output goes through the task's output mappings.
    let (status, body) = fnf(&server, crate::server::APP_TOKEN, "ReportTaskSucceeded", report.clone()).await?;
    assert_eq!(status, 200, "{body}");
    let view = wait_end(&server, &ok).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["result"], 42, "{view}");
    let (status, body) = fnf(&server, crate::server::APP_TOKEN, "ReportTaskSucceeded", report).await?;
    assert!(status == 404 || status == 409, "a second report is refused: {status} {body}");

    // Failed with an error the task catches: the flow goes on at `handled`.
    let failed = json!({"TaskToken": token_of(&given, "caught"), "Error": "MyError", "Cause": "the card was declined"});
    assert_eq!(fnf(&server, crate::server::APP_TOKEN, "ReportTaskFailed", failed).await?.0, 200);
    let view = wait_end(&server, &caught).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(task(&view, "handled")["status"], "SUCCEED", "{view}");
    assert_eq!(task(&view, "done")["status"], "NOT_STARTED", "{view}");
    assert_eq!(task(&view, "wait")["error"]["error"], "MyError", "{view}");

    // Failed with an error nothing catches: the execution fails with it.
    let failed = json!({"TaskToken": token_of(&given, "uncaught"), "Error": "OtherError", "Cause": "no"});
    assert_eq!(fnf(&server, crate::server::APP_TOKEN, "ReportTaskFailed", failed).await?.0, 200);
    let view = wait_end(&server, &uncaught).await?;
    assert_eq!(view["status"], "Failed", "{view}");
    assert!(view.to_string().contains("OtherError"), "{view}");
    server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_fdl_03_forks_subflows_that_report_back_by_callback_token() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // The corpus's task is `acs:fc:::services/subflowSamples/functions/startSubflow`;
    // here the test plays that function's part: it starts each subflow with the token.
    assert_eq!(server.deploy("startSubflow", "hello").await?.status(), 201);
    let main = std::fs::read_to_string(
        cloudexec_tests::repo_root().join("tests/corpus/fdl/03-fork-foreach-wait-for-callback.yaml"),
    )?;
    create_flow(&server, "main", &main).await?;
    create_flow(&server, "subflow", "version: v1beta1\ntype: flow\nsteps:\n  - type: pass\n    name: compute\n")
        .await?;
    let id =
        start_id(&server, "main", json!({"executionName": "run1", "subflowName": "subflow", "keys": ["a", "b", "c"]}))
            .await?;

    let mut given = Vec::new();
    for _ in 0..400 {
        let jobs: Value =
            server.as_app(Method::GET, "/v1/functions/startSubflow/jobs?source=flow").send().await?.json().await?;
        given = jobs["items"].as_array().cloned().unwrap_or_default();
        if given.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(given.len(), 3, "one call per key");
    for job in &given {
        let input = &job["input"];
        let key = input["key"].as_str().unwrap_or_default();
        assert_eq!(input["flowName"], "subflow");
        let start = json!({
            "FlowName": input["flowName"],
            "ExecutionName": format!("{}-{key}", input["executionName"].as_str().unwrap_or_default()),
            "Input": json!({"value": key}).to_string(),
            "CallbackFnFTaskToken": input["taskToken"],
        });
        let (status, body) = fnf(&server, crate::server::APP_TOKEN, "StartExecution", start).await?;
        assert_eq!(status, 200, "{body}");
    }
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["values"], json!(["a", "b", "c"]), "{view}");

    // A token that is not one, or another app's, is refused at the start.
    let token = given[0]["input"]["taskToken"].as_str().unwrap_or_default();
    let (_, other) = server.new_app("b").await?;
    create_flow_as(&server, &other, "subflow").await?;
    let foreign = json!({"FlowName": "subflow", "Input": "{}", "CallbackFnFTaskToken": token});
    let (status, body) = fnf(&server, &other, "StartExecution", foreign).await?;
    assert_eq!(status, 400, "{body}");
    let bogus = json!({"FlowName": "subflow", "Input": "{}", "CallbackFnFTaskToken": "12"});
    assert_eq!(fnf(&server, crate::server::APP_TOKEN, "StartExecution", bogus).await?.0, 400);
    server.stop().await?;
    Ok(())
}

async fn create_flow_as(server: &TestServer, token: &str, name: &str) -> anyhow::Result<()> {
    let answer = server
        .with_token(token, Method::POST, &format!("/v1/flows?name={name}"))
        .header("content-type", "text/yaml")
        .body("version: v1beta1\ntype: flow\nsteps:\n  - type: pass\n    name: compute\n")
        .send()
        .await?;
    anyhow::ensure!(answer.status() == 201, "creating {name}: {}", answer.status());
    Ok(())
}
