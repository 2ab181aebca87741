//! Flow definitions that used to crash or stall the server: each gets a clear 400 and the
//! server keeps serving.

use serde_json::{Value, json};

use super::{healthy, send, start};

/// A DAG whose `tasks` form one `next` chain of `len` pass tasks.
fn chain(name: &str, len: usize) -> String {
    let mut yaml = format!("dagName: {name}\ntype: flow\ntasks:\n");
    for i in 0..len {
        yaml.push_str(&format!("  - name: t{i}\n    category: pass\n"));
        if i + 1 < len {
            yaml.push_str(&format!("    next: t{}\n", i + 1));
        }
    }
    yaml
}

/// Before the fix, the recursive cycle check overflowed a tokio worker's stack on a
/// chain of a few thousand tasks and the whole server died of SIGABRT.
#[test]
fn a_long_task_chain_is_refused_on_every_route_and_the_server_lives() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let long = chain("long", 20_000);
    let routes = [
        ("POST", "/v1/flows?name=long"),
        ("PUT", "/v1/flows/long"),
        ("POST", "/flow/bg/manage/descriptor/add_descriptor.json?business_id=b&feature_name=f"),
    ];
    for (method, path) in routes {
        let (status, body) = send(&server, method, path, "text/yaml", &long)?;
        assert_eq!(status, 400, "{method} {path}: {body}");
        assert!(body.contains("20000 tasks; at most 2000"), "{method} {path}: {body}");
        healthy(&server)?;
    }
    let fnf = json!({"Name": "long", "Definition": long}).to_string();
    let (status, body) = send(&server, "POST", "/fnf/CreateFlow", "application/json", &fnf)?;
    assert_eq!(status, 400, "{body}");
    healthy(&server)?;

    // Within the limit, a long chain is accepted and runs to its end.
    let (status, body) = send(&server, "POST", "/v1/flows?name=chain", "text/yaml", &chain("chain", 2_000))?;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        send(&server, "POST", "/v1/flows/chain/executions?sync=true&timeout_ms=120000", "application/json", "{}")?;
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body)?;
    assert_eq!(view["status"], "Succeeded", "{body}");
    Ok(())
}

/// Before the fix, 32k levels of flow nesting took the YAML parser 14 s on an async
/// worker, and a JSON body 100k deep was parsed a second time as YAML for 80-108 s.
#[test]
fn deeply_nested_definitions_are_refused_before_parsing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let flow_yaml = format!("tasks: {}{}", "[".repeat(200_000), "]".repeat(200_000));
    let (status, body) = send(&server, "POST", "/v1/flows?name=deep", "text/yaml", &flow_yaml)?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nests deeper than 64 levels"), "{body}");

    let mut block_yaml = String::from("tasks:\n");
    for level in 0..300 {
        block_yaml.push_str(&format!("{}- k{level}:\n", " ".repeat(level + 2)));
    }
    let (status, body) = send(&server, "POST", "/v1/flows?name=deep", "text/yaml", &block_yaml)?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nests deeper than 64 levels"), "{body}");

    // A JSON body that does not parse is refused as JSON, not parsed again as YAML.
    let json_body = format!("{{\"name\": \"deep\", \"definition\": \"{}", "[".repeat(100_000));
    let (status, body) = send(&server, "POST", "/v1/flows", "application/json", &json_body)?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not valid JSON"), "{body}");
    // JSON of another shape is the definition text itself, and is measured before parsing.
    let json_body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, body) = send(&server, "POST", "/v1/flows?name=deep", "application/json", &json_body)?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nests deeper than 64 levels"), "{body}");

    // Deep expressions inside an otherwise small definition.
    let condition = format!("{}$.a{}", "(".repeat(3_000), ")".repeat(3_000));
    let yaml = format!(
        "dagName: cond\ntasks:\n  - name: r\n    category: return\n    conditions: ['{condition}']\n    next: p\n  \
         - name: p\n    category: pass\n"
    );
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &yaml)?;
    assert_eq!(status, 400, "{body}");
    let path = format!("$.input{}", "[?(@.a".repeat(100));
    let yaml = format!(
        "dagName: path\ntasks:\n  - name: p\n    category: pass\n    inputMappings: [{{source: '{path}', target: $.input.x}}]\n"
    );
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &yaml)?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nests brackets deeper than 16"), "{body}");
    healthy(&server)?;
    let (status, body) = send(&server, "GET", "/v1/flows", "", "")?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body)?["total"], 0, "nothing was stored: {body}");
    Ok(())
}

/// A DAG whose foreach runs a pass task over the execution input's `items`.
const FOREACH: &str = "dagName: many\ntasks:\n  - name: each\n    category: foreach\n    \
                       iterationMapping: {collection: $.context.items, item: it}\n    tasks:\n      \
                       - name: p\n        category: pass\n";

/// Before the fix a 20,000-state run added 441 MiB and long runs cost quadratic time:
/// an execution's scopes and task records are bounded now, and a long foreach is linear.
#[test]
fn an_execution_cannot_grow_without_bound() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", FOREACH)?;
    assert_eq!(status, 201, "{body}");
    let run = |items: usize| -> anyhow::Result<Value> {
        let input = json!({"input": {"items": (0..items).collect::<Vec<_>>()}}).to_string();
        let path = "/v1/flows/many/executions?sync=true&timeout_ms=120000";
        let (status, body) = send(&server, "POST", path, "application/json", &input)?;
        anyhow::ensure!(status == 200, "{status}: {}", &body[..body.len().min(500)]);
        Ok(serde_json::from_str(&body)?)
    };
    let fine = run(3_000)?;
    assert_eq!(fine["status"], "Succeeded", "{}", fine["errors"]);
    let too_many = run(30_000)?;
    assert_eq!(too_many["status"], "Failed");
    let message = too_many["errors"][0]["error_message"].as_str().unwrap_or_default();
    assert!(message.starts_with("States.Runtime") && message.contains("30000 iterations"), "{message}");
    healthy(&server)?;
    Ok(())
}

/// Before the fix this one-state loop nested its data one level deeper at every step and
/// overflowed a worker's stack: the whole server aborted within two seconds.
#[test]
fn a_loop_that_nests_its_data_fails_and_the_server_lives() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let grow = "Type: StateMachine\nSpecVersion: v1\nName: grow\nStartAt: Grow\nStates:\n  - Name: Grow\n    \
                Type: Pass\n    ResultPath: $.prev\n    Next: Grow\n";
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", grow)?;
    assert_eq!(status, 201, "{body}");
    let path = "/v1/flows/grow/executions?sync=true&timeout_ms=60000";
    let (status, body) = send(&server, "POST", path, "application/json", r#"{"input":{"a":1}}"#)?;
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body)?;
    assert_eq!(view["status"], "Failed", "{body}");
    assert!(body.contains("States.DataLimitExceeded"), "{body}");
    let deep = format!("{{\"input\":{}1{}}}", "{\"a\":".repeat(100), "}".repeat(100));
    let (status, body) = send(&server, "POST", "/v1/flows/grow/executions", "application/json", &deep)?;
    assert_eq!(status, 400, "{body}");
    healthy(&server)?;
    Ok(())
}

/// Found by an attack run: a Pass whose Parameters copy a 2 MiB input under 300 keys
/// built 600 MB and stored it; a retry interval of 1e308 overflowed the retry time and
/// panicked the driver; a billion retries wrote history for ever.
#[test]
fn templates_cannot_multiply_data_and_retry_rules_are_bounded() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let keys: String = (0..300).map(|i| format!("      k{i}.$: $\n")).collect();
    let multiply = format!(
        "Type: StateMachine\nName: mul\nStartAt: P\nStates:\n  - Name: P\n    Type: Pass\n    Parameters:\n{keys}    End: true\n"
    );
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", &multiply)?;
    assert_eq!(status, 201, "{body}");
    let input = json!({"input": {"s": "x".repeat(2 << 20)}}).to_string();
    let path = "/v1/flows/mul/executions?sync=true&timeout_ms=120000";
    let (status, body) = send(&server, "POST", path, "application/json", &input)?;
    assert_eq!(status, 200, "{}", &body[..body.len().min(500)]);
    let view: Value = serde_json::from_str(&body)?;
    assert_eq!(view["status"], "Failed");
    assert!(body.contains("the data grew past 8 MiB"), "{}", &body[..body.len().min(500)]);
    let id = view["execution_id"].as_str().unwrap_or_default();
    let (status, stored) = send(&server, "GET", &format!("/v1/executions/{id}"), "", "")?;
    assert_eq!(status, 200);
    assert!(stored.len() < 8 << 20, "no multiplied data was stored: {} bytes", stored.len());

    let huge_retry = "Type: StateMachine\nName: r\nStartAt: T\nStates:\n  - Name: T\n    Type: Task\n    \
                      Resource: function://nosuch\n    Retry: [{Errors: [States.ALL], IntervalSeconds: 1e308, \
                      BackoffRate: 1e308, MaxAttempts: 5}]\n    End: true\n";
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", huge_retry)?;
    assert_eq!(status, 201, "{body}");
    let (status, body) = send(&server, "POST", "/v1/flows/r/executions", "application/json", "{}")?;
    assert_eq!(status, 202, "{body}");
    let id = serde_json::from_str::<Value>(&body)?["execution_id"].as_str().unwrap_or_default().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, history) = send(&server, "GET", &format!("/v1/executions/{id}/history"), "", "")?;
        if history.contains("TaskRetried") || history.contains("TaskFailed") {
            break;
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "the first attempt never ended: {history}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    healthy(&server)?;
    let (status, body) = send(&server, "POST", &format!("/v1/executions/{id}/stop"), "application/json", "{}")?;
    assert_eq!(status, 200, "the driver still runs the execution: {body}");

    let endless = "Type: StateMachine\nName: e\nStartAt: T\nStates:\n  - Name: T\n    Type: Task\n    \
                   Resource: function://nosuch\n    Retry: [{Errors: [States.ALL], IntervalSeconds: 0, \
                   MaxAttempts: 1000000000}]\n    End: true\n";
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", endless)?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 1000"), "{body}");
    Ok(())
}

/// Found by the second attack run: a FDL foreach over a parallel copied a 600 kB input into
/// 6,000 branches and the kernel killed the server at 24 GB. An execution now copies at
/// most 64 MiB into its iterations, branches and results, and a task's answer is 1 MiB at most.
#[test]
fn iterations_cannot_copy_the_input_without_bound_and_answers_are_capped() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let fdl = "version: v1beta1\ntype: flow\nsteps:\n  - type: foreach\n    name: fe\n    iterationMapping:\n      \
               collection: $.keys\n      item: key\n    steps:\n      - type: parallel\n        name: par\n        \
               branches:\n          - steps:\n            - {type: pass, name: p1}\n          - steps:\n            \
               - {type: pass, name: p2}\n";
    let body = json!({"name": "fe", "definition": fdl}).to_string();
    let (status, answer) = send(&server, "POST", "/v1/flows", "application/json", &body)?;
    assert_eq!(status, 201, "{answer}");
    let input = json!({"input": {"keys": vec!["x".repeat(200); 3000]}}).to_string();
    let (status, answer) =
        send(&server, "POST", "/v1/flows/fe/executions?sync=true&timeout_ms=120000", "application/json", &input)?;
    assert_eq!(status, 200, "{}", &answer[..answer.len().min(300)]);
    assert!(
        answer.contains("\"status\":\"Failed\"") && answer.contains("would pass the 64 MiB"),
        "{}",
        &answer[..answer.len().min(600)]
    );
    healthy(&server)?;

    server.cli(&["deploy", &super::common::guest("hostile")?, "--name", "hostile"])?.expect(0)?;
    let echo = "Type: StateMachine\nName: big\nStartAt: T\nStates:\n  - Name: T\n    Type: Task\n    \
                Resource: function://hostile\n    End: true\n";
    let (status, answer) = send(&server, "POST", "/v1/flows", "text/yaml", echo)?;
    assert_eq!(status, 201, "{answer}");
    let input = json!({"input": {"action": "echo", "pad": "y".repeat(2 << 20)}}).to_string();
    let (status, answer) =
        send(&server, "POST", "/v1/flows/big/executions?sync=true&timeout_ms=120000", "application/json", &input)?;
    assert_eq!(status, 200, "{}", &answer[..answer.len().min(300)]);
    assert!(
        answer.contains("States.DataLimitExceeded") && answer.contains("the answer"),
        "{}",
        &answer[..answer.len().min(600)]
    );
    Ok(())
}

/// A loop of states that never wait is cut off; the answer says why even though no task failed.
#[test]
fn an_endless_loop_fails_and_says_why() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let spin = "Type: StateMachine\nName: spin\nStartAt: A\nStates:\n  - {Name: A, Type: Pass, Next: B}\n  \
                - {Name: B, Type: Pass, Next: A}\n";
    let (status, body) = send(&server, "POST", "/v1/flows", "text/yaml", spin)?;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        send(&server, "POST", "/v1/flows/spin/executions?sync=true&timeout_ms=120000", "application/json", "{}")?;
    assert_eq!(status, 200, "{body}");
    let view: Value = serde_json::from_str(&body)?;
    assert_eq!(view["status"], "Failed", "{body}");
    let message = view["errors"][0]["error_message"].as_str().unwrap_or_default();
    assert!(message.starts_with("States.Runtime") && message.contains("endless loop"), "{body}");
    Ok(())
}

/// Every task of a FDL flow without mappings gets the whole data as its input and keeps
/// it, with its output, in its record: 120 steps over 1 MiB of data held 240 MiB of copies
/// no limit counted (2,000 steps over 8 MiB would have held 32 GB). Task inputs and
/// outputs now count against the execution's 64 MiB data budget.
#[test]
fn task_inputs_and_outputs_count_against_the_execution_data_budget() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(&dir)?;
    let steps: String = (0..120).map(|i| format!("  - {{type: pass, name: p{i}}}\n")).collect();
    let fdl = format!("version: v1beta1\ntype: flow\nsteps:\n{steps}");
    let body = json!({"name": "copies", "definition": fdl}).to_string();
    let (status, answer) = send(&server, "POST", "/v1/flows", "application/json", &body)?;
    assert_eq!(status, 201, "{answer}");
    let input = json!({"input": {"pad": "z".repeat(1 << 20)}}).to_string();
    let path = "/v1/flows/copies/executions?sync=true&timeout_ms=120000";
    let (status, answer) = send(&server, "POST", path, "application/json", &input)?;
    assert_eq!(status, 200, "{}", &answer[..answer.len().min(300)]);
    assert!(
        answer.contains("\"status\":\"Failed\"") && answer.contains("would pass the 64 MiB"),
        "{}",
        &answer[..answer.len().min(600)]
    );
    // A smaller input runs through every step.
    let input = json!({"input": {"pad": "z".repeat(64 << 10)}}).to_string();
    let (status, answer) = send(&server, "POST", path, "application/json", &input)?;
    assert_eq!(status, 200);
    assert!(answer.contains("\"status\":\"Succeeded\""), "{}", &answer[..answer.len().min(300)]);
    healthy(&server)
}
