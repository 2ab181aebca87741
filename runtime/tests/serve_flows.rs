//! Flow executions survive a SIGKILL of the real `cloudexec serve`: the restarted server
//! resumes each execution from its last stored transition, without running a finished
//! step again.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use cloudexec_tests::endpoints::Endpoints;
use common::{Server, TOKEN};
use serde_json::{Value, json};

const STEPS: [&str; 5] = ["s1", "s2", "s3", "s4", "s5"];

fn five_slow_steps(ep: &Endpoints) -> String {
    let mut yaml = String::from("version: 1\nworkspace: crash\ndagName: five\ntype: flow\ntasks:\n");
    for (i, step) in STEPS.iter().enumerate() {
        let next = STEPS.get(i + 1).map(|n| format!("    next: {n}\n")).unwrap_or_default();
        yaml.push_str(&format!(
            "  - category: function\n    name: {step}\n    pattern: task_sync\n    resourceName: {}\n{next}    \
             outputMappings: [{{target: $.context.{step}, source: $.output.n}}]\n",
            ep.url(&format!("/slow/{step}?ms=700"))
        ));
    }
    yaml
}

fn post(server: &Server, path: &str, content_type: &str, body: String) -> anyhow::Result<Value> {
    let mut answer = ureq::post(format!("{}{path}", server.url))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", content_type)
        .send(body)
        .with_context(|| format!("POST {path}"))?;
    Ok(serde_json::from_str(&answer.body_mut().read_to_string()?)?)
}

fn task_status(view: &Value, name: &str) -> String {
    let tasks = view["tasks"].as_array().cloned().unwrap_or_default();
    tasks
        .iter()
        .find(|t| t["key"] == name)
        .map(|t| t["status"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[test]
fn a_flow_resumes_after_a_kill_9_and_does_not_rerun_finished_steps() -> anyhow::Result<()> {
    let ep = Endpoints::start()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let first = Server::start(&data, dir.path(), Some(TOKEN), &[])?;
    post(&first, "/v1/flows?name=five", "text/yaml", five_slow_steps(&ep))?;
    let started = post(&first, "/v1/flows/five/executions", "application/json", json!({"input": {}}).to_string())?;
    let id = started["execution_id"].as_str().context("no execution_id")?.to_string();
    let path = format!("/v1/executions/{id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while task_status(&first.get_json(&path)?, "s2") != "SUCCEED" {
        ensure!(Instant::now() < deadline, "s2 never succeeded");
        sleep(Duration::from_millis(20));
    }
    drop(first); // SIGKILL while s3 runs.
    let before_restart: Vec<u32> = STEPS.iter().map(|s| ep.seen.calls(s)).collect();
    assert_eq!(&before_restart[..2], &[1, 1]);

    let second = Server::start(&data, dir.path(), Some(TOKEN), &[])?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        let view = second.get_json(&path)?;
        if !matches!(view["status"].as_str(), Some("Starting" | "Running")) {
            break view;
        }
        ensure!(Instant::now() < deadline, "the execution did not finish after the restart: {view}");
        sleep(Duration::from_millis(50));
    };
    assert_eq!(view["status"], "Succeeded", "{view}");
    for step in STEPS {
        assert_eq!(task_status(&view, step), "SUCCEED", "{step}");
    }
    assert_eq!((ep.seen.calls("s1"), ep.seen.calls("s2")), (1, 1), "finished steps must not run again");
    assert!(ep.seen.calls("s3") <= 2, "s3 was interrupted, so it ran at most twice");
    assert_eq!((ep.seen.calls("s4"), ep.seen.calls("s5")), (1, 1));
    assert_eq!(view["output"]["s1"], 1);
    let history = second.get_json(&format!("/v1/executions/{id}/history?limit=1000"))?;
    let events = history["events"].as_array().cloned().unwrap_or_default();
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "no history lost or duplicated");
    Ok(())
}

fn sample(name: &str) -> String {
    cloudexec_tests::repo_root().join("examples/flows").join(name).display().to_string()
}

#[test]
fn flow_run_runs_a_flow_without_a_server() -> anyhow::Result<()> {
    let binds = [
        format!("flow-start-node={}", common::guest("flow-start-node")?),
        format!("flow-end-node={}", common::guest("flow-end-node")?),
    ];
    let bind_args = ["--bind", binds[0].as_str(), "--bind", binds[1].as_str()];
    for file in ["sample.yaml", "sample.state-machine.yaml"] {
        let path = sample(file);
        let args =
            [&["flow", "run", path.as_str(), "--input", r#"{"left": 512, "right": 512}"#], &bind_args[..]].concat();
        let run = common::cloudexec(&args)?.expect(0)?;
        assert!(run.stdout.contains("Succeeded (100%)") && run.stdout.contains("1024"), "{run:#?}");
        assert!(run.stdout.contains("SUCCEED"), "{run:#?}");
    }
    let path = sample("sample.yaml");
    // Without its functions the first task fails: exit 1 and the task's error.
    let failed = common::cloudexec(&["flow", "run", &path, "--input", r#"{"left": 1, "right": 2}"#])?.expect(1)?;
    assert!(failed.stdout.contains("FAILED") && failed.stdout.contains("FunctionNotFound"), "{failed:#?}");
    let dir = tempfile::tempdir()?;
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\ntype: flow\ndagName: b\ntasks:\n  - {category: pass, name: A, next: Z}\n")?;
    let rejected = common::cloudexec(&["flow", "run", &bad.display().to_string()])?.expect(7)?;
    assert!(rejected.stderr.contains("\"A\"") && rejected.stderr.contains("next"), "{rejected:#?}");
    Ok(())
}

#[test]
fn flow_deploy_start_get_and_history_work_against_a_server() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(&dir.path().join("data"), dir.path(), Some(TOKEN), &[])?;
    server.cli(&["deploy", &common::guest("flow-start-node")?, "--name", "flow-start-node"])?.expect(0)?;
    server.cli(&["deploy", &common::guest("flow-end-node")?, "--name", "flow-end-node"])?.expect(0)?;
    let path = sample("sample.yaml");
    server.cli(&["flow", "deploy", &path])?.expect(0)?.shows(&["flow demoFlowTest:demoTest version 1"])?;
    server.cli(&["flow", "deploy", &path])?.expect(0)?.shows(&["version 2"])?;
    let input = r#"{"left": 512, "right": 512}"#;
    let run = server.cli(&["flow", "start", "demoFlowTest:demoTest", "--input", input, "--sync"])?.expect(0)?;
    assert!(run.stdout.contains("Succeeded (100%)") && run.stdout.contains("endNode"), "{run:#?}");
    let id = run.stdout.split_whitespace().nth(1).context("no id")?.to_string();
    server.cli(&["flow", "get", &id])?.expect(0)?.shows(&["startNode", "SUCCEED", "\"result_number\":1024"])?;
    server.cli(&["flow", "history", &id])?.expect(0)?.shows(&[
        "ExecutionStarted",
        "TaskSucceeded",
        "ExecutionSucceeded",
    ])?;
    // `flow watch` prints the same events from the server-sent stream and stops at the end.
    server.cli(&["flow", "watch", &id])?.expect(0)?.shows(&[
        "ExecutionStarted",
        "TaskSucceeded",
        "ExecutionSucceeded",
        "ended: Succeeded",
    ])?;
    server.cli(&["flow", "watch", "nope"])?.expect(10)?;
    let started = server.cli(&["flow", "start", "demoFlowTest:demoTest", "--input", input])?.expect(0)?;
    assert!(started.stdout.starts_with("execution: "), "{started:#?}");
    server.cli(&["flow", "get", "nope"])?.expect(10)?;
    Ok(())
}
