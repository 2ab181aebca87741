//! Flows over the native API with a real server, real SQLite, real wasm tasks and real
//! HTTP task endpoints on 127.0.0.1.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cloudexec_tests::endpoints::Endpoints;
use reqwest::Method;
use serde_json::{Value, json};

use crate::flow_support::{
    count, create_flow, deploy_sample_functions, history, run_sync, start, start_id, task, wait_end,
};
use crate::server::TestServer;

fn example(name: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(cloudexec_tests::repo_root().join("examples/flows").join(name))?)
}

#[tokio::test]
async fn the_sample_flow_gives_the_same_output_in_both_formats() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    deploy_sample_functions(&server).await?;
    create_flow(&server, "sample-dag", &example("sample.yaml")?).await?;
    create_flow(&server, "sample-sm", &example("sample.state-machine.yaml")?).await?;
    let input = json!({ "left": 512, "right": 512 });
    let (status, dag) = run_sync(&server, "sample-dag", input.clone(), 20_000).await?;
    assert_eq!(status, 200, "{dag}");
    assert_eq!(dag["status"], "Succeeded", "{dag}");
    let (_, sm) = run_sync(&server, "sample-sm", input, 20_000).await?;
    assert_eq!(sm["status"], "Succeeded", "{sm}");
    assert_eq!(dag["output"]["result_number"], 1024);
    assert_eq!(sm["output"]["result_number"], dag["output"]["result_number"]);
    assert!(dag["errors"].as_array().is_some_and(Vec::is_empty));
    // Each wasm task left a job record whose source says it came from a flow.
    let jobs: Value =
        server.as_app(Method::GET, "/v1/functions/flow-start-node/jobs?source=flow").send().await?.json().await?;
    assert_eq!(jobs["total"], 2, "{jobs}");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn fan_out_and_join_run_the_join_once_after_both_branches() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        r#"
version: 1
workspace: t
dagName: fan
type: flow
tasks:
  - {{category: pass, name: A, next: "B,C"}}
  - category: function
    name: B
    resourceName: {slow_b}
    pattern: task_sync
    next: D
    outputMappings: [{{target: $.context.b, source: $.output.step}}]
  - category: function
    name: C
    resourceName: {slow_c}
    pattern: task_sync
    next: D
    outputMappings: [{{target: $.context.c, source: $.output.step}}]
  - category: function
    name: D
    resourceName: {echo}
    pattern: task_sync
    inputMappings:
      - {{target: $.input.b, source: $.context.b}}
      - {{target: $.input.c, source: $.context.c}}
    outputMappings: [{{target: $.context.joined, source: $.output}}]
"#,
        slow_b = ep.url("/slow/b?ms=2000"),
        slow_c = ep.url("/slow/c?ms=2000"),
        echo = ep.url("/echo"),
    );
    create_flow(&server, "fan", &yaml).await?;
    let (_, view) = run_sync(&server, "fan", json!({}), 60_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["joined"], json!({ "b": "b", "c": "c" }));
    assert_eq!(ep.seen.max_running.load(Ordering::SeqCst), 2, "B and C should run at once");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn choice_runs_the_matching_branch_and_skips_the_other() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let yaml = r#"
version: 1
workspace: t
dagName: sw
type: flow
tasks:
  - category: switch
    name: choose
    inputMappings: [{target: $.input.num, source: $.context.num}]
    switches:
      - {next: big, condition: "$.input.[?(@.num >= 5)]", break: true}
      - {next: small, condition: default}
  - category: pass
    name: big
    outputMappings: [{target: $.context.size, source: big}]
  - category: pass
    name: small
    outputMappings: [{target: $.context.size, source: small}]
"#;
    create_flow(&server, "sw", yaml).await?;
    for (num, size, skipped) in [(7, "big", "small"), (2, "small", "big")] {
        let id = start_id(&server, "sw", json!({ "num": num })).await?;
        let view = wait_end(&server, &id).await?;
        assert_eq!(view["status"], "Succeeded", "{view}");
        assert_eq!(view["output"]["size"], size);
        assert_eq!(task(&view, size)["status"], "SUCCEED");
        assert_eq!(task(&view, skipped)["status"], "SKIPPED");
        assert_eq!(view["process"], 100);
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn foreach_never_exceeds_its_max_concurrency() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        r#"
version: 1
workspace: t
dagName: each
type: flow
tasks:
  - category: foreach
    name: each
    inputMappings: [{{target: $.input.items, source: $.context.items}}]
    iterationMapping: {{collection: $.input.items, item: item}}
    synchronization: {{maxConcurrency: 2}}
    outputMappings: [{{target: $.context.steps, source: "$.output.sub_context.[*].step"}}]
    tasks:
      - category: function
        name: work
        pattern: task_sync
        resourceName: {slow}
        inputMappings: [{{target: $.input.item, source: $.context.item}}]
        outputMappings: [{{target: $.context.step, source: $.output.input.item}}]
"#,
        slow = ep.url("/slow/each?ms=150")
    );
    create_flow(&server, "each", &yaml).await?;
    let (_, view) = run_sync(&server, "each", json!({ "items": [1, 2, 3, 4, 5, 6] }), 30_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["steps"], json!([1, 2, 3, 4, 5, 6]));
    assert_eq!(ep.seen.calls("each"), 6);
    assert_eq!(ep.seen.max_running.load(Ordering::SeqCst), 2, "observed concurrency must be exactly the limit");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_flaky_task_is_retried_until_it_succeeds() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        "version: 1\nworkspace: t\ndagName: flaky\ntype: flow\ntasks:\n  - category: function\n    name: call\n    \
         pattern: task_sync\n    resourceName: {}\n    retry: {{maxRetryTimes: 3, intervalInSeconds: 0.05, multiplier: 2}}\n    \
         outputMappings: [{{target: $.context.attempts, source: $.output.attempts}}]\n",
        ep.url("/flaky/k?fail_times=2")
    );
    create_flow(&server, "flaky", &yaml).await?;
    let id = start_id(&server, "flaky", json!({})).await?;
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["attempts"], 3);
    assert_eq!(task(&view, "call")["attempt"], 3);
    let events = history(&server, &id).await?;
    assert_eq!(count(&events, "TaskRetried", "call"), 2);
    assert_eq!(count(&events, "TaskFailed", "call"), 2);
    assert_eq!(count(&events, "TaskSucceeded", "call"), 1);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn exhausted_retries_go_to_the_catch_path() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        r#"
Type: StateMachine
SpecVersion: v1
Name: caught
StartAt: Call
States:
  - Name: Call
    Type: Task
    Resource: {fail}
    Retry:
      - {{Errors: [HTTP.500], MaxAttempts: 2, IntervalSeconds: 0.05, BackoffRate: 1}}
    Catch:
      - {{Errors: [States.ALL], Next: Recover, ResultPath: $.failure}}
    End: true
  - Name: Recover
    Type: Pass
    End: true
"#,
        fail = ep.url("/fail")
    );
    create_flow(&server, "caught", &yaml).await?;
    let (_, view) = run_sync(&server, "caught", json!({ "order": 1 }), 20_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["order"], 1);
    assert_eq!(view["output"]["failure"]["error"], "HTTP.500");
    assert_eq!(ep.seen.calls("fail"), 3, "one attempt and two retries");
    let events = history(&server, view["execution_id"].as_str().unwrap_or_default()).await?;
    assert_eq!(count(&events, "TaskCaught", "Call"), 1);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_tolerated_failure_does_not_fail_the_flow() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        "version: 1\nworkspace: t\ndagName: tol\ntype: flow\ntasks:\n  - {{category: function, name: bad, pattern: task_sync, \
         resourceName: \"{}\", tolerance: true, next: after}}\n  - {{category: pass, name: after}}\n",
        ep.url("/fail")
    );
    create_flow(&server, "tol", &yaml).await?;
    let (_, sync) = run_sync(&server, "tol", json!({}), 20_000).await?;
    assert_eq!(sync["status"], "Succeeded", "{sync}");
    let view = wait_end(&server, sync["execution_id"].as_str().unwrap_or_default()).await?;
    assert_eq!(task(&view, "bad")["status"], "FAILED");
    assert_eq!(task(&view, "bad")["error"]["error"], "HTTP.500");
    assert_eq!(task(&view, "after")["status"], "SUCCEED");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_wait_state_waits() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let yaml = "Type: StateMachine\nSpecVersion: v1\nName: w\nStartAt: Nap\nStates:\n  - {Name: Nap, Type: Wait, Seconds: 1, Next: Done}\n  - {Name: Done, Type: Succeed}\n";
    create_flow(&server, "w", yaml).await?;
    let started = Instant::now();
    let (_, view) = run_sync(&server, "w", json!({ "x": 1 }), 20_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(view["output"], json!({ "x": 1 }));
    server.stop().await?;
    Ok(())
}

fn async_flow(url: &str) -> String {
    format!(
        "version: 1\nworkspace: t\ndagName: a\ntype: flow\ntasks:\n  - category: function\n    name: worker\n    \
         pattern: task_async\n    resourceName: \"{url}\"\n    inputMappings: [{{target: $.input.value, source: $.context.value}}]\n    \
         outputMappings: [{{target: $.context.doubled, source: $.output.doubled}}]\n"
    )
}

#[tokio::test]
async fn async_tasks_finish_through_the_callback() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    create_flow(&server, "ok", &async_flow(&ep.url("/async?result=SUCCESS"))).await?;
    create_flow(&server, "ko", &async_flow(&ep.url("/async?result=FAIL"))).await?;
    let id = start_id(&server, "ok", json!({ "value": 21 })).await?;
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_eq!(view["output"]["doubled"], 42);
    let calls = ep.seen.async_calls.lock().map(|c| c.clone()).unwrap_or_default();
    let (body, callback) = &calls[0];
    assert_eq!(body["passthrough"], json!({ "execution_id": id, "task_name": "worker" }));
    assert!(callback.contains("/flow/finish.json?executionId="), "{callback}");
    let id = start_id(&server, "ko", json!({ "value": 1 })).await?;
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "Failed", "{view}");
    assert_eq!(task(&view, "worker")["status"], "FAILED");
    assert_eq!(task(&view, "worker")["error"]["error"], "WorkerFailed");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_named_execution_starts_once() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    create_flow(&server, "once", &async_flow(&ep.url("/async?delay_ms=600"))).await?;
    let body = json!({ "input": { "value": 1 }, "name": "order-7" });
    let (first_status, first) = start(&server, "once", body.clone()).await?;
    let (second_status, second) = start(&server, "once", body.clone()).await?;
    assert_eq!((first_status, second_status), (202, 200));
    assert_eq!(first["execution_id"], second["execution_id"]);
    wait_end(&server, first["execution_id"].as_str().unwrap_or_default()).await?;
    let (status, error) = start(&server, "once", body).await?;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "ExecutionAlreadyExists");
    assert_eq!(ep.seen.async_calls.lock().map(|c| c.len()).unwrap_or(0), 1);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn sync_executions_report_failed_nodes_and_time_out() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    deploy_sample_functions(&server).await?;
    // A wrong expectation makes endNode (a wasm task) fail.
    let failing = r#"
version: 1
workspace: t
dagName: mismatch
type: flow
tasks:
  - category: function
    name: startNode
    next: endNode
    resourceName: function://flow-start-node
    pattern: task_sync
    inputMappings:
      - {target: $.input.left, source: $.context.left}
      - {target: $.input.right, source: $.context.right}
    outputMappings: [{target: $.context.result_number, source: $.output.result_number}]
  - category: function
    name: endNode
    resourceName: function://flow-end-node
    pattern: task_sync
    inputMappings:
      - {target: $.input.result_number, source: $.context.result_number}
      - {target: $.input.expect_number, source: $.context.expect}
"#;
    create_flow(&server, "mismatch", failing).await?;
    let (_, view) = run_sync(&server, "mismatch", json!({ "left": 1, "right": 2, "expect": 4 }), 20_000).await?;
    assert_eq!(view["status"], "Failed", "{view}");
    let errors = view["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{view}");
    assert_eq!(errors[0]["node_id"], "endNode");
    assert!(errors[0]["error_message"].as_str().unwrap_or_default().contains("Mismatch"), "{view}");
    assert!(errors[0]["begin_time"].as_str().is_some_and(|t| t.ends_with('Z')));
    create_flow(&server, "slow", &async_flow(&ep.url("/async?callback=never"))).await?;
    let (_, view) = run_sync(&server, "slow", json!({ "value": 1 }), 500).await?;
    assert_eq!(view["status"], "TimedOut", "{view}");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_running_execution_can_be_stopped_and_its_history_pages_through() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    create_flow(&server, "never", &async_flow(&ep.url("/async?callback=never"))).await?;
    let id = start_id(&server, "never", json!({ "value": 1 })).await?;
    let stopped: Value = server.as_app(Method::POST, &format!("/v1/executions/{id}/stop")).send().await?.json().await?;
    assert_eq!(stopped["status"], "Stopped", "{stopped}");
    // A long history: 300 iterations of a pass body, read back 100 at a time.
    let yaml = "version: 1\nworkspace: t\ndagName: many\ntype: flow\ntasks:\n  - category: foreach\n    name: each\n    \
                inputMappings: [{target: $.input.items, source: $.context.items}]\n    iterationMapping: {collection: $.input.items, item: i}\n    \
                tasks:\n      - {category: pass, name: p}\n";
    create_flow(&server, "many", yaml).await?;
    let items: Vec<i64> = (0..300).collect();
    let (_, view) = run_sync(&server, "many", json!({ "items": items }), 30_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let events = history(&server, view["execution_id"].as_str().unwrap_or_default()).await?;
    assert!(events.len() > 900, "only {} events", events.len());
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "history must be complete and in order");
    assert_eq!(events.last().map(|e| e["kind"].clone()), Some(json!("ExecutionSucceeded")));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn running_executions_keep_their_version_and_the_callback_url_hears_the_end() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    create_flow(&server, "v", &async_flow(&ep.url("/async?delay_ms=500"))).await?;
    let body = json!({ "input": { "value": 4 }, "callback_url": ep.url("/sink") });
    let (_, old) = start(&server, "v", body).await?;
    let v2 = "version: 2\nworkspace: t\ndagName: v\ntype: flow\ntasks:\n  - {category: pass, name: only}\n";
    let updated: Value = server
        .as_app(Method::PUT, "/v1/flows/v")
        .header("content-type", "text/yaml")
        .body(v2)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(updated["version"], 2, "{updated}");
    let new = start_id(&server, "v", json!({})).await?;
    let old_view = wait_end(&server, old["execution_id"].as_str().unwrap_or_default()).await?;
    let new_view = wait_end(&server, &new).await?;
    assert_eq!((old_view["flow_version"].clone(), new_view["flow_version"].clone()), (json!(1), json!(2)));
    assert_eq!(old_view["output"]["doubled"], 8, "the old execution ran version 1: {old_view}");
    assert_eq!(task(&new_view, "only")["status"], "SUCCEED");
    let v1: Value = server.as_app(Method::GET, "/v1/flows/v?version=1").send().await?.json().await?;
    assert!(v1["definition"].as_str().is_some_and(|d| d.contains("task_async")));
    let mut heard = Vec::new();
    for _ in 0..100 {
        heard = ep.seen.sink.lock().map(|s| s.clone()).unwrap_or_default();
        if !heard.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0]["execution_id"], old["execution_id"]);
    assert_eq!(heard[0]["status"], "Succeeded");
    assert_eq!(heard[0]["output"]["doubled"], 8);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_fan_out_example_retries_the_flaky_task_and_catches_the_broken_one() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    deploy_sample_functions(&server).await?;
    let yaml = example("fan-out-retry-catch.yaml")?.replace("http://127.0.0.1:9400", &ep.base);
    create_flow(&server, "fan-out", &yaml).await?;
    let (_, view) = run_sync(&server, "fan-out", json!({ "left": 1, "right": 2 }), 20_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let output = &view["output"];
    assert_eq!(output["sum"]["result_number"], 3);
    assert_eq!(output["branches"][0]["attempts"], 3, "{output}");
    assert_eq!(output["branches"][1]["error"]["error"], "HTTP.500", "{output}");
    assert_eq!((ep.seen.calls("demo"), ep.seen.calls("fail")), (3, 2));
    let events = history(&server, view["execution_id"].as_str().unwrap_or_default()).await?;
    assert_eq!(count(&events, "TaskRetried", "FanOut_0-Flaky"), 2);
    assert_eq!(count(&events, "TaskCaught", "FanOut_1-Broken"), 1);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn task_and_execution_timeouts_end_what_runs_too_long() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let task_timeout = format!(
        "Type: StateMachine\nSpecVersion: v1\nName: tt\nStartAt: Slow\nStates:\n  - Name: Slow\n    Type: Task\n    \
         Resource: {}\n    TimeoutSeconds: 0.3\n    End: true\n",
        ep.url("/slow/tt?ms=3000")
    );
    create_flow(&server, "tt", &task_timeout).await?;
    let (_, view) = run_sync(&server, "tt", json!({}), 60_000).await?;
    // Without the timeout the slow task would have succeeded after its 3 s.
    assert_eq!(view["status"], "Failed", "{view}");
    assert!(view["errors"][0]["error_message"].as_str().is_some_and(|m| m.starts_with("States.Timeout")), "{view}");
    let flow_timeout = format!(
        "version: 1\nworkspace: t\ndagName: ft\ntype: flow\ntimer: {{timeoutInSeconds: 0.3}}\ntasks:\n  - {{category: function, name: slow, \
         pattern: task_sync, resourceName: \"{}\"}}\n",
        ep.url("/slow/ft?ms=3000")
    );
    create_flow(&server, "ft", &flow_timeout).await?;
    let id = start_id(&server, "ft", json!({})).await?;
    let view = wait_end(&server, &id).await?;
    assert_eq!(view["status"], "TimedOut", "{view}");
    assert_eq!(view["error"]["error"], "States.Timeout");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn state_machine_map_and_choice_work_over_the_data() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = format!(
        r#"
Type: StateMachine
SpecVersion: v1
Name: mapchoice
StartAt: Each
States:
  - Name: Each
    Type: Map
    ItemsPath: $.items
    MaxConcurrency: 2
    ResultPath: $.results
    Processor:
      StartAt: Work
      States:
        - Name: Work
          Type: Task
          Resource: {slow}
          End: true
    Next: Decide
  - Name: Decide
    Type: Choice
    Choices:
      - Condition: $.big == true
        Next: Big
    Default: Small
  - {{Name: Big, Type: Pass, Result: {{size: big}}, ResultPath: $.size, End: true}}
  - {{Name: Small, Type: Pass, Result: {{size: small}}, ResultPath: $.size, End: true}}
"#,
        slow = ep.url("/slow/map?ms=150")
    );
    create_flow(&server, "mapchoice", &yaml).await?;
    let (_, view) = run_sync(&server, "mapchoice", json!({ "items": [1, 2, 3, 4, 5], "big": true }), 20_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let results = view["output"]["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.iter().map(|r| r["input"].clone()).collect::<Vec<_>>(), [1, 2, 3, 4, 5].map(|n| json!(n)));
    assert_eq!(view["output"]["size"]["size"], "big");
    assert_eq!(ep.seen.max_running.load(Ordering::SeqCst), 2);
    let (_, small) = run_sync(&server, "mapchoice", json!({ "items": [], "big": false }), 20_000).await?;
    assert_eq!(small["output"]["size"]["size"], "small", "{small}");
    assert_eq!(small["output"]["results"], json!([]));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn hostile_function_tasks_fail_their_task_and_the_server_keeps_serving() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let wasm = cloudexec_tests::guest_bytes("hostile")?;
    let deployed = server
        .as_app(Method::POST, "/v1/functions?name=hostile&sync_timeout_ms=300")
        .header("content-type", "application/wasm")
        .body(wasm)
        .send()
        .await?;
    assert_eq!(deployed.status(), 201);
    let yaml = "version: 1\nworkspace: t\ndagName: h\ntype: flow\ntasks:\n  - category: function\n    name: bad\n    \
                resourceName: function://hostile\n    pattern: task_sync\n    retry: {maxRetryTimes: 1}\n    \
                inputMappings: [{target: $.input.action, source: $.context.action}]\n";
    create_flow(&server, "h", yaml).await?;
    for (action, error) in [("loop", "DeadlineExceeded"), ("panic", "Trap"), ("bomb", "MemoryLimitExceeded")] {
        if action == "bomb" {
            // Seconds of room: the bomb must reach its memory cap first on a busy machine.
            let patched = server
                .as_app(Method::PATCH, "/v1/functions/hostile")
                .json(&json!({"sync_timeout_ms": 30_000}))
                .send()
                .await?;
            assert_eq!(patched.status(), 200);
        }
        let (_, view) = run_sync(&server, "h", json!({ "action": action }), 120_000).await?;
        assert_eq!(view["status"], "Failed", "{action}: {view}");
        let message = view["errors"][0]["error_message"].as_str().unwrap_or_default();
        assert!(message.starts_with(error), "{action}: {message}");
    }
    // Every attempt left a job record; the server still runs flows.
    let jobs: Value = server.as_app(Method::GET, "/v1/functions/hostile/jobs?source=flow").send().await?.json().await?;
    assert_eq!(jobs["total"], 6, "two attempts for each of the three runs: {jobs}");
    let (_, view) = run_sync(&server, "h", json!({ "action": "echo" }), 20_000).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    server.stop().await?;
    Ok(())
}
