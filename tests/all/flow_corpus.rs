//! The runnable flows of the conformance corpus (`tests/corpus/rill-flow/`, see its
//! README), run on a real server against real HTTP endpoints, with the expectations the
//! README gives for Rill Flow's own tests. The sample-executor flows call a stub of Rill
//! Flow's `docs/samples/executor/main.py` (`cloudexec_tests::endpoints`), whose address
//! replaces `http://sample-executor:8000`.
//!
//! Runs: 01, 02, 04, 05, 25, 27, 28, 30 as written; 03, 07, 09, 24 and 29 as written too,
//! with their AviatorScript `transform`s run (`flows/data/aviator`). Where a script draws
//! a random number (03, 07, 09), the test reads the number the run drew and checks what
//! follows from it; a variant with the scripts taken out checks each branch for a chosen
//! number.
//!
//! Left out:
//! * 06, 10, 11, 33, 34 are parse-only (placeholder hosts, API keys); 08 calls a sub-flow
//!   (`rillflow://`), which cloudexec does not run.
//! * 12 is parse-only; 13–23 and 32 are mock-dispatch: their resources are fake
//!   (`olympicene::...`, `function://...` of no deployed function) and the Spock tests
//!   finish tasks by hand, which needs a stub dispatcher.
//! * 26 (`suspense` with `interruptions` and a wake-up) needs the suspense task and a
//!   wake-up API, which cloudexec does not have (`suspense` fails as unsupported).
//! * 31 tests task `progress` (`weight`, `args`), which cloudexec does not report.

use cloudexec_tests::endpoints::Endpoints;
use serde_json::{Value, json};

use crate::flow_support::{create_flow, start_id, task, wait_end};
use crate::server::TestServer;

/// The text of `tests/corpus/rill-flow/<file>`.
fn corpus(file: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(cloudexec_tests::repo_root().join("tests/corpus/rill-flow").join(file))?)
}

/// The corpus file with the sample executor's host replaced by the stub's address.
fn on_stub(file: &str, ep: &Endpoints) -> anyhow::Result<String> {
    Ok(corpus(file)?.replace("http://sample-executor:8000", &ep.base))
}

/// `text` with `from` replaced by `to`; fails if `from` is not there.
fn replaced(text: &str, from: &str, to: &str) -> anyhow::Result<String> {
    anyhow::ensure!(text.contains(from), "{from:?} is not in the definition");
    Ok(text.replace(from, to))
}

/// The definition without its `transform` scripts: a mapping that starts with
/// `- transform:` keeps its other keys, a `transform:` line elsewhere is dropped, so each
/// mapping copies its source as it is.
fn without_transforms(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut dash: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        if trimmed.starts_with("- transform:") {
            dash = Some(format!("{indent}- "));
        } else if trimmed.starts_with("transform:") {
            continue;
        } else if let Some(prefix) = dash.take() {
            out.push(format!("{prefix}{trimmed}"));
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n") + "\n"
}

/// Creates `flow` from `yaml` and runs it on `input`; returns the ended execution's view.
async fn create_run(server: &TestServer, flow: &str, yaml: &str, input: Value) -> anyhow::Result<Value> {
    create_flow(server, flow, yaml).await?;
    run(server, flow, input).await
}

/// Runs `flow` on `input`; returns the ended execution's view.
async fn run(server: &TestServer, flow: &str, input: Value) -> anyhow::Result<Value> {
    let id = start_id(server, flow, input).await?;
    wait_end(server, &id).await
}

/// Asserts each task's status (`key` as the execution view shows it).
fn assert_statuses(view: &Value, expected: &[(&str, &str)], case: &str) {
    for (key, status) in expected {
        assert_eq!(task(view, key)["status"], *status, "{case}: task {key} in {view}");
    }
}

#[tokio::test]
async fn readme_greet_01_calls_bob_then_alice() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let input = json!({ "Bob": "Hello, I am Bob", "Alice": "Hello, I am Alice" });
    let view = create_run(&server, "greet", &on_stub("01-readme-greet.yaml", &ep)?, input.clone()).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_statuses(&view, &[("Bob", "SUCCEED"), ("Alice", "SUCCEED")], "greet");
    // greet.json answers a Python set, which arrives as an array.
    assert_eq!(task(&view, "Bob")["output"], json!(["result_type", "SUCCESS", "result", "Hello, I am Bob"]));
    assert_eq!(task(&view, "Alice")["output"], json!(["result_type", "SUCCESS", "result", "Hello, I am Alice"]));
    let calls = ep.seen.sample_calls("/greet.json");
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        (calls[0]["query"]["user"].clone(), calls[0]["body"].clone()),
        (json!("Bob"), json!({ "Bob": input["Bob"] }))
    );
    assert_eq!(calls[1]["query"]["user"], "Alice");
    // No output mappings: the context is the input.
    assert_eq!(view["output"], input);
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn call_api_02_returns_early_only_when_the_condition_holds() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    create_flow(&server, "call-api", &on_stub("02-call-api-sample.yaml", &ep)?).await?;
    // No result_type in the context: the return's condition is false, so the return is
    // SKIPPED and printNode runs.
    let view = run(&server, "call-api", json!({ "input_num": 10 })).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let expected =
        [("startNode", "SUCCEED"), ("callApiNode", "SUCCEED"), ("returnNode", "SKIPPED"), ("printNode", "SUCCEED")];
    assert_statuses(&view, &expected, "condition false");
    assert_eq!(view["output"]["sum"], 285, "Σ i² for i < 10: {view}");
    assert_eq!(task(&view, "printNode")["output"], json!(["result_type", "SUCCESS", "print_result", 285]));
    // print.json answers an array, so `$.output.print_result` selects nothing.
    assert!(view["output"].get("print_result").is_none(), "{view}");
    // result_type SUCCESS: the return SUCCEEDs and printNode is SKIPPED.
    let input = json!({ "input_num": 4, "result_type": "SUCCESS" });
    let view = run(&server, "call-api", input).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let expected =
        [("startNode", "SUCCEED"), ("callApiNode", "SUCCEED"), ("returnNode", "SUCCEED"), ("printNode", "SKIPPED")];
    assert_statuses(&view, &expected, "condition true");
    assert_eq!(view["output"]["sum"], 14);
    assert_eq!(ep.seen.sample_calls("/print.json").len(), 1);
    assert_eq!(ep.seen.sample_calls("/choice.json")[1]["body"], json!({ "input_num": 4 }));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn http_get_04_sends_the_query_part() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let view =
        create_run(&server, "http-get", &on_stub("04-http-get-sample.yaml", &ep)?, json!({ "user": "Bob" })).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_statuses(&view, &[("startNode", "SUCCEED"), ("callApiNode", "SUCCEED")], "get");
    let calls = ep.seen.sample_calls("/hello.json");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["query"], json!({ "user": "Bob" }));
    assert_eq!(task(&view, "callApiNode")["output"], json!(["result_type", "SUCCESS", "result", "Hello, Bob"]));
    // hello.json answers an array, so `$.output.result` selects nothing.
    assert_eq!(view["output"], json!({ "user": "Bob" }));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn http_post_05_sends_header_query_and_a_form_body() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = on_stub("05-http-post-sample.yaml", &ep)?;
    let view = create_run(&server, "http-post", &yaml, json!({ "user": "Bob", "title": "On flows" })).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    assert_statuses(&view, &[("startNode", "SUCCEED"), ("callApiNode", "SUCCEED")], "post");
    let result = json!({
        "content_type": "application/x-www-form-urlencoded",
        "user": "Bob",
        "form_data": { "title": "On flows" },
    });
    assert_eq!(view["output"]["result"], result, "{view}");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn parallel_async_07_runs_its_transform_and_the_async_fan_out() -> anyhow::Result<()> {
    let (server, ep) = (TestServer::start().await?, Endpoints::start()?);
    let yaml = on_stub("07-parallel-async-dag.yaml", &ep)?;
    // As written: `random` builds `segments` with its Aviator script: rand(3) + 1 items,
    // item i being i * rand_num; each goes through the executor and its callback.
    let view = create_run(&server, "parallel", &yaml, json!({ "rand_num": 3 })).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let segments = view["output"]["segments"].as_array().cloned().unwrap_or_default();
    assert!((1..=3).contains(&segments.len()), "{view}");
    let drawn: Vec<i64> = (0..segments.len() as i64).map(|i| i * 3).collect();
    assert_eq!(view["output"]["segments"], json!(drawn), "{view}");
    let results: Vec<i64> = drawn.iter().map(|x| x * 100).collect();
    assert_eq!(view["output"]["callback_result_list"], json!(results), "{view}");
    assert_eq!(view["output"]["sum"], results.iter().sum::<i64>());
    assert_eq!(ep.seen.sample_calls("/executor.json").len(), segments.len());
    // Without the script `random` copies rand_num to segments, so the input gives the
    // list the script would have built. Each iteration's executor answers through the
    // async callback, its callback task multiplies again, and print sums the gather.
    let yaml = without_transforms(&yaml);
    let view = create_run(&server, "parallel-plain", &yaml, json!({ "rand_num": [1, 2, 3] })).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let mut expected = vec![("random", "SUCCEED"), ("foreachNode", "SUCCEED"), ("print", "SUCCEED")];
    let keys: Vec<String> =
        (0..3).flat_map(|i| [format!("foreachNode_{i}-executor"), format!("foreachNode_{i}-callback")]).collect();
    expected.extend(keys.iter().map(|k| (k.as_str(), "SUCCEED")));
    assert_statuses(&view, &expected, "without transform");
    assert_eq!(view["output"]["callback_result_list"], json!([100, 200, 300]), "{view}");
    assert_eq!(view["output"]["sum"], 600);
    let executor = ep.seen.sample_calls("/executor.json");
    assert_eq!(executor.len(), segments.len() + 3, "the first run's calls and these three");
    assert!(executor.iter().all(|c| c["mode"] == "async"), "task_async calls say X-Mode: async: {executor:?}");
    assert_eq!(task(&view, "foreachNode_1-executor")["output"], json!({ "executor_result": 20 }));
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn choice_03_and_switch_09_run_their_transforms_and_branch_on_the_number_drawn() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // As written: random_num = rand(input_num) + 1; a number of 5 or more takes the branch
    // that multiplies it by 10, a smaller one the branch that negates it.
    for (file, flow) in [("03-choice-sample.yaml", "choice"), ("09-switch-sample.yaml", "switch")] {
        create_flow(&server, flow, &corpus(file)?).await?;
        for _ in 0..4 {
            let view = run(&server, flow, json!({ "input_num": 10 })).await?;
            assert_eq!(view["status"], "Succeeded", "{file}: {view}");
            let drawn = view["output"]["random_num"].as_i64().unwrap_or_default();
            assert!((1..=10).contains(&drawn), "{file}: {view}");
            let expected = if drawn >= 5 { drawn * 10 } else { -drawn };
            assert_eq!(view["output"]["result"], expected, "{file}: {view}");
        }
    }
    // Without the scripts random_num is input_num and choice_num is random_num.
    // 03: a `return` whose condition holds ends its branch; printNode joins both branches
    // and runs when one of them is live.
    create_flow(&server, "choice-plain", &without_transforms(&corpus("03-choice-sample.yaml")?)).await?;
    for (num, stopped, ran) in [(2, "choiceOne", "choiceTwo"), (7, "choiceTwo", "choiceOne")] {
        let view = run(&server, "choice-plain", json!({ "input_num": num })).await?;
        assert_eq!(view["status"], "Succeeded", "{view}");
        let expected = [
            (stopped, "SUCCEED"),
            (&format!("{stopped}Pass"), "SKIPPED"),
            (ran, "SKIPPED"),
            (&format!("{ran}Pass"), "SUCCEED"),
            ("printNode", "SUCCEED"),
        ];
        assert_statuses(&view, &expected, &format!("03 with {num}"));
        assert_eq!(view["output"]["result"], num);
    }
    // 09: `num >= 5` with break, else the default.
    create_flow(&server, "switch-plain", &without_transforms(&corpus("09-switch-sample.yaml")?)).await?;
    for (num, ran, skipped) in [(7, "choiceOnePass", "choiceTwoPass"), (2, "choiceTwoPass", "choiceOnePass")] {
        let view = run(&server, "switch-plain", json!({ "input_num": num })).await?;
        assert_eq!(view["status"], "Succeeded", "{view}");
        let expected = [("choice", "SUCCEED"), (ran, "SUCCEED"), (skipped, "SKIPPED"), ("printNode", "SUCCEED")];
        assert_statuses(&view, &expected, &format!("09 with {num}"));
        assert_eq!(view["output"]["result"], num);
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn return_in_foreach_24_skips_per_iteration() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // The collection comes from the script `return seq.list(0, 1, 2);`.
    let view = create_run(&server, "ret-each", &corpus("24-test-return-in-foreach.yaml")?, json!({})).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    // Iteration 0: returnB holds (B skipped); iteration 1: returnA holds (A skipped);
    // iteration 2: neither holds, both run.
    let expected = [
        ("foreach_0-returnA", "SKIPPED"),
        ("foreach_0-A", "SUCCEED"),
        ("foreach_0-returnB", "SUCCEED"),
        ("foreach_0-B", "SKIPPED"),
        ("foreach_1-returnA", "SUCCEED"),
        ("foreach_1-A", "SKIPPED"),
        ("foreach_1-returnB", "SKIPPED"),
        ("foreach_1-B", "SUCCEED"),
        ("foreach_2-A", "SUCCEED"),
        ("foreach_2-B", "SUCCEED"),
        ("foreach", "SUCCEED"),
    ];
    assert_statuses(&view, &expected, "24");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn return_parallel_branches_25_skip_a_join_only_when_every_upstream_is_skipped() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    create_flow(&server, "returns", &corpus("25-test-return-parallel-branches.yaml")?).await?;
    // ReturnTaskTraversalTest's table: context → B, C, D, E.
    let table = [
        (json!({ "text": "aaa", "url": "bbb" }), ["SUCCEED", "SUCCEED", "SKIPPED", "SKIPPED"]),
        (json!({ "text": "aa1", "url": "bbb" }), ["SUCCEED", "SKIPPED", "SUCCEED", "SUCCEED"]),
        (json!({ "text": "aaa", "url": "bb1" }), ["SKIPPED", "SUCCEED", "SUCCEED", "SKIPPED"]),
        (json!({ "text": "aa1", "url": "bb1" }), ["SKIPPED", "SKIPPED", "SUCCEED", "SUCCEED"]),
    ];
    for (context, [b, c, d, e]) in table {
        let view = run(&server, "returns", context.clone()).await?;
        assert_eq!(view["status"], "Succeeded", "{context}: {view}");
        let expected = [("A", "SUCCEED"), ("B", b), ("C", c), ("D", d), ("E", e)];
        assert_statuses(&view, &expected, &context.to_string());
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn switch_multi_next_27_fires_every_target_of_the_matching_case() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    create_flow(&server, "multi-next", &corpus("27-test-switch-multi-next.yaml")?).await?;
    // Input 0 is the Spock test's case; 5 and 10 follow from the same cases.
    let table = [
        (0, ["SUCCEED", "SKIPPED", "SUCCEED"]),
        (5, ["SUCCEED", "SUCCEED", "SKIPPED"]),
        (10, ["SKIPPED", "SUCCEED", "SKIPPED"]),
    ];
    for (input, [a, b, c]) in table {
        let view = run(&server, "multi-next", json!({ "input": input })).await?;
        assert_eq!(view["status"], "Succeeded", "{view}");
        let expected = [("switch", "SUCCEED"), ("caseA", a), ("caseB", b), ("caseC", c)];
        assert_statuses(&view, &expected, &format!("input {input}"));
    }
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn two_switches_28_run_a_join_with_one_live_upstream() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let view = create_run(
        &server,
        "two-switches",
        &corpus("28-test-switch-two-switches.yaml")?,
        json!({ "input": 0, "trigger": true }),
    )
    .await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    // switch → caseA, switch1 → caseB; caseC is skipped by both; caseF has a skipped (C)
    // and a live (B) upstream and runs; caseE's only upstream is C.
    let expected = [
        ("switch", "SUCCEED"),
        ("switch1", "SUCCEED"),
        ("caseA", "SUCCEED"),
        ("caseB", "SUCCEED"),
        ("caseC", "SKIPPED"),
        ("caseD", "SUCCEED"),
        ("caseE", "SKIPPED"),
        ("caseF", "SUCCEED"),
    ];
    assert_statuses(&view, &expected, "input 0");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn switch_in_foreach_29_runs_only_the_matching_case_despite_next() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // The collection comes from the script `return seq.list(0, 1);`.
    let view = create_run(&server, "switch-each", &corpus("29-test-switch-in-foreach.yaml")?, json!({})).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    // The switch also lists `next: A,B`; still only the matching case's target runs.
    let expected = [
        ("foreach_0-switch", "SUCCEED"),
        ("foreach_0-A", "SUCCEED"),
        ("foreach_0-B", "SKIPPED"),
        ("foreach_1-switch", "SUCCEED"),
        ("foreach_1-A", "SKIPPED"),
        ("foreach_1-B", "SUCCEED"),
    ];
    assert_statuses(&view, &expected, "29");
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn degrade_30_skips_the_task_and_everything_after_it() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let yaml = corpus("30-test-degrade.yaml")?;
    let view = create_run(&server, "degrade", &yaml, json!({ "x": 1 })).await?;
    assert_eq!(view["status"], "Succeeded", "{view}");
    let expected = [("A", "SKIPPED"), ("B", "SKIPPED"), ("C", "SKIPPED"), ("D", "SKIPPED"), ("E", "SKIPPED")];
    assert_statuses(&view, &expected, "current and followings");
    assert_eq!(view["output"], json!({ "x": 1 }));
    // TaskDegradeTest's other two variants of the same file.
    for (degrade, a, rest) in [("current: true", "SKIPPED", "SUCCEED"), ("followings: true", "SUCCEED", "SKIPPED")] {
        let flow = format!("degrade-{}", &degrade[..4]);
        let variant = replaced(&yaml, "    current: true\n    followings: true", &format!("    {degrade}"))?;
        let view = create_run(&server, &flow, &variant, json!({})).await?;
        assert_eq!(view["status"], "Succeeded", "{view}");
        let expected = [("A", a), ("B", rest), ("C", rest), ("D", rest), ("E", rest)];
        assert_statuses(&view, &expected, degrade);
    }
    server.stop().await?;
    Ok(())
}
