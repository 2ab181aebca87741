//! State-machine and FDL parsing.

use serde_json::json;

use super::tests::rejection;
use super::*;
use crate::flows::data::{Source, apply_mappings, fill_template};
use crate::flows::graph::{
    BlockMode, ChoiceTarget, DataFlow, ForeachOutput, NodeKind, Resource, TaskPattern, WaitSpec,
};

const MACHINE: &str = r#"
Type: StateMachine
SpecVersion: v1
Name: demo
StartAt: Start
TimeoutSeconds: 60
States:
  - Name: Start
    Type: Task
    Resource: function://flow-start-node
    TaskMode: WaitForCustomCallback
    Parameters: {left.$: $.left, right.$: $Input.right}
    ResultPath: $.sum
    Retry: [{Errors: [FC.Unknown], MaxAttempts: 2, MaxBackoffSeconds: 9}]
    Catch: [{Errors: [FnF.ALL], Next: Failed, ResultPath: $.error}]
    Next: Check
  - Name: Check
    Type: Choice
    Branches:
      - Condition: $.sum.result_number > 10 && $Input.flag
        Next: Loop
    Default: Done
  - Name: Loop
    Type: Map
    ItemsPath: $.items
    MaxConcurrency: 3
    Processor:
      StartAt: Each
      States: [{Name: Each, Type: Pass, Result: {x: 1}, End: true}]
    Next: Both
  - Name: Both
    Type: Parallel
    Branches:
      - StartAt: W
        States:
          - {Name: W, Type: Wait, SecondsPath: $.delay, End: true}
    ResultPath: null
    Next: Done
  - {Name: Done, Type: Succeed}
  - {Name: Failed, Type: Fail, Code: Boom, Detail: it broke}
"#;

#[test]
fn state_machine_list_form() {
    let graph = parse(MACHINE).unwrap();
    assert_eq!((graph.format, graph.name.as_str(), graph.timeout_secs), (FlowFormat::StateMachine, "demo", Some(60.0)));
    let root = &graph.root;
    assert_eq!((root.mode, root.start.clone(), root.nodes.len()), (BlockMode::Sequence, vec![0], 6));
    let start = &root.nodes[0];
    assert_eq!(start.next, vec![1]);
    let NodeKind::Task(task) = &start.kind else { panic!("task") };
    assert_eq!(
        (task.resource.clone(), task.pattern),
        (Resource::Function { name: "flow-start-node".into() }, TaskPattern::Async)
    );
    let DataFlow::Paths(paths) = &start.data else { panic!("paths") };
    let params = fill_template(paths.parameters.as_ref().unwrap(), &json!({"left": 1, "right": 2})).unwrap();
    assert_eq!(params, json!({"left": 1, "right": 2}));
    assert_eq!(paths.result_path.as_ref().map(|p| p.as_str()), Some("$.sum"));
    assert_eq!((start.retry[0].max_retries, start.retry[0].interval_secs, start.retry[0].backoff_rate), (2, 1.0, 2.0));
    assert_eq!(start.retry[0].max_interval_secs, Some(9.0));
    assert_eq!((start.catch[0].next, start.catch[0].errors.clone()), (5, vec!["FnF.ALL".to_string()]));
    let NodeKind::Choice(choice) = &root.nodes[1].kind else { panic!("choice") };
    assert!(choice.first_match);
    assert!(choice.rules[0].condition.eval(&json!({"sum": {"result_number": 11}, "flag": true})).unwrap());
    assert!(matches!(&choice.default, Some(ChoiceTarget::Next(n)) if n == &vec![4]));
    assert_eq!(root.nodes[1].successors(), vec![2, 4]);
    let NodeKind::Foreach(map) = &root.nodes[2].kind else { panic!("map") };
    assert!(matches!(&map.collection, Source::Path(p) if p.as_str() == "$.items"));
    assert_eq!((map.item_key.clone(), map.max_concurrency, map.output), (None, 3, ForeachOutput::Array));
    assert!(matches!(&map.block.nodes[0].kind, NodeKind::Pass { result: Some(r) } if r == &json!({"x": 1})));
    let NodeKind::Parallel { branches } = &root.nodes[3].kind else { panic!("parallel") };
    assert!(matches!(&branches[0].nodes[0].kind, NodeKind::Wait(WaitSpec::SecondsPath(_))));
    let DataFlow::Paths(paths) = &root.nodes[3].data else { panic!("paths") };
    assert!(paths.discard_result && paths.result_path.is_none());
    assert!(matches!(&root.nodes[5].kind, NodeKind::Fail { error, cause } if error == "Boom" && cause == "it broke"));
}

#[test]
fn state_machine_map_form_and_actions() {
    let graph = parse(
        r#"
StartAt: A
States:
  A: {Type: Task, Resource: my-func, Next: B}
  B: {Type: Task, Action: 'FC:InvokeFunction', Parameters: {resourceArn: 'acs:fc:x:1:functions/fn-b/LATEST', body: {k.$: $.v}}, Next: C}
  C: {Type: Task, Action: 'HTTP:Request', Parameters: {url: 'https://e.x/p', method: GET}, Next: D}
  D: {Type: Task, Resource: 'acs:fc:::services/s/functions/f', Pattern: async, End: true}
"#,
    )
    .unwrap();
    let kinds: Vec<(Resource, TaskPattern)> = graph
        .root
        .nodes
        .iter()
        .map(|n| match &n.kind {
            NodeKind::Task(t) => (t.resource.clone(), t.pattern),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds[0].0, Resource::Function { name: "my-func".into() });
    assert_eq!(kinds[1].0, Resource::Function { name: "fn-b".into() });
    assert_eq!(kinds[2].0, Resource::Http { url: "https://e.x/p".into() });
    assert_eq!(kinds[3], (Resource::Function { name: "f".into() }, TaskPattern::Async));
    let DataFlow::Paths(paths) = &graph.root.nodes[1].data else { panic!("paths") };
    assert_eq!(paths.parameters, Some(json!({"k.$": "$.v"})));
}

#[test]
fn state_machine_rejections() {
    let head = "Type: StateMachine\nSpecVersion: v1\nStartAt: A\nStates:\n";
    let cases = [
        (
            "Type: StateMachine\nSpecVersion: v2\nStartAt: A\nStates: [{Name: A, Type: Succeed}]".to_string(),
            r#"field "SpecVersion""#,
        ),
        ("Type: StateMachine\nStartAt: A\nStates: []".into(), r#"field "States": must list"#),
        (
            "Type: StateMachine\nStartAt: Z\nStates: [{Name: A, Type: Succeed}]".into(),
            r#"field "StartAt": no state named "Z""#,
        ),
        (format!("{head}  - {{Name: A, Type: Bogus}}"), r#"task "A", field "Type": unknown Type"#),
        (format!("{head}  - {{Name: A, Type: Pass}}"), r#"task "A", field "Next""#),
        (format!("{head}  - {{Name: A, Type: Pass, Next: Z}}"), r#"task "A", field "Next": no task named "Z""#),
        (
            format!("{head}  - {{Name: A, Type: Pass, End: true}}\n  - {{Name: A, Type: Succeed}}"),
            r#"task "A", field "name": duplicate"#,
        ),
        (format!("{head}  - {{Name: A, Type: Task, End: true}}"), r#"task "A", field "Resource""#),
        (format!("{head}  - {{Name: A, Type: Pass, InputPath: '$$', End: true}}"), r#"task "A", field "InputPath""#),
        (
            format!("{head}  - {{Name: A, Type: Pass, Parameters: {{x.$: 'nope'}}, End: true}}"),
            r#"task "A", field "Parameters""#,
        ),
        (
            format!("{head}  - {{Name: A, Type: Choice, Choices: [{{Condition: '$.a ==', Next: A}}]}}"),
            r#"task "A", field "Choices[0].Condition""#,
        ),
        (
            format!("{head}  - {{Name: A, Type: Task, Resource: f, End: true, Catch: [{{Next: Z}}]}}"),
            r#"task "A", field "Catch[0].Next""#,
        ),
        (
            format!(
                "{head}  - {{Name: A, Type: Map, End: true, Processor: {{StartAt: B, States: [{{Name: B, Type: Pass}}]}}}}"
            ),
            r#"task "A/B", field "Next""#,
        ),
        (format!("{head}  - {{Name: A, Type: Wait, End: true}}"), r#"task "A", field "Seconds""#),
    ];
    for (text, expected) in cases {
        let message = rejection(&text);
        assert!(message.contains(expected), "{text}\n  gave: {message}\n  want: {expected}");
    }
}

const FDL: &str = r#"
version: v1beta1
type: flow
steps:
  - type: pass
    name: init
    outputMappings: [{target: marker, source: ""}, {target: limit, source: 5}]
  - type: task
    name: list
    resourceArn: !Ref svc/list
    pattern: waitForCallback
    inputMappings:
      - {target: bucket, source: $input.bucket}
      - {target: marker, source: $local.marker}
      - {target: token, source: $context.task.token}
    outputMappings: [{target: keys, source: $local.keys}]
    retry: [{errors: [FC.Unknown], maxAttempts: 10, maxIntervalSeconds: 10}]
    catch: [{errors: [FnF.ALL], goto: final}]
  - type: foreach
    name: each
    iterationMapping: {collection: $.keys, item: key}
    steps: [{type: task, name: work, resourceArn: 'https://h/x'}]
    outputMappings: [{target: values, source: '$local[*].value'}]
  - type: choice
    name: more
    choices:
      - {condition: $.has_more && $.limit >= 5, goto: list}
      - condition: $.marker != ""
        steps: [{type: wait, name: pause, duration: "2"}]
    default: {goto: final}
  - {type: parallel, name: par, branches: [{steps: [{type: pass, name: p}]}], end: true}
  - {type: succeed, name: final}
"#;

#[test]
fn fdl_sequence_goto_and_data() {
    let graph = parse(FDL).unwrap();
    let nodes = &graph.root.nodes;
    assert_eq!(
        (graph.format, graph.root.mode, graph.root.start.clone()),
        (FlowFormat::Fdl, BlockMode::Sequence, vec![0])
    );
    let nexts: Vec<Vec<usize>> = nodes.iter().map(|n| n.next.clone()).collect();
    assert_eq!(nexts, vec![vec![1], vec![2], vec![3], vec![4], vec![], vec![]]);
    assert_eq!(nodes[3].successors(), vec![1, 4, 5]);
    let NodeKind::Task(task) = &nodes[1].kind else { panic!("task") };
    assert_eq!(
        (task.resource.clone(), task.pattern),
        (Resource::Unsupported { resource: "svc/list".into() }, TaskPattern::Async)
    );
    assert_eq!((nodes[1].retry[0].max_retries, nodes[1].retry[0].max_interval_secs), (10, Some(10.0)));
    assert_eq!(nodes[1].catch[0].next, 5);
    let DataFlow::Mappings { input, output } = &nodes[1].data else { panic!("mappings") };
    let mut doc = json!({"context": {"bucket": "b", "marker": "m"}, "execution": {"task": {"token": "t"}}, "output": {"keys": [1]}});
    apply_mappings(input, &mut doc).unwrap();
    assert_eq!(doc["input"], json!({"bucket": "b", "marker": "m", "token": "t"}));
    apply_mappings(output, &mut doc).unwrap();
    assert_eq!(doc["context"]["keys"], json!([1]));
    let NodeKind::Foreach(each) = &nodes[2].kind else { panic!("foreach") };
    assert!(matches!(&each.collection, Source::Path(p) if p.as_str() == "$.context.keys"));
    assert_eq!((each.item_key.as_deref(), each.output), (Some("key"), ForeachOutput::Array));
    assert!(
        matches!(&each.block.nodes[0].kind, NodeKind::Task(t) if t.resource == Resource::Http { url: "https://h/x".into() })
    );
    let NodeKind::Choice(choice) = &nodes[3].kind else { panic!("choice") };
    let doc = json!({"context": {"has_more": true, "limit": 5, "marker": ""}});
    assert!(choice.rules[0].condition.eval(&doc).unwrap());
    assert!(!choice.rules[1].condition.eval(&doc).unwrap());
    assert!(
        matches!(&choice.rules[1].target, ChoiceTarget::Block(b) if matches!(b.nodes[0].kind, NodeKind::Wait(WaitSpec::Seconds(s)) if s == 2.0))
    );
    assert!(matches!(&nodes[4].kind, NodeKind::Parallel { branches } if branches[0].nodes[0].name == "p"));
}

#[test]
fn fdl_function_compute_arns_run_the_app_s_function_of_that_name() {
    let head = "version: v1\ntype: flow\nsteps:\n";
    for (arn, name) in [
        ("acs:fc:::services/post-actions-service/functions/long-running", "long-running"),
        ("acs:fc:cn-hangzhou:123456:services/svc.LATEST/functions/audit", "audit"),
        ("acs:fc:::services/s/functions/resize/LATEST", "resize"),
    ] {
        let graph = parse(&format!("{head}  - {{type: task, name: t, resourceArn: '{arn}'}}")).unwrap();
        let NodeKind::Task(task) = &graph.root.nodes[0].kind else { panic!("task") };
        assert_eq!(task.resource, Resource::Function { name: name.into() }, "{arn}");
    }
    let error = parse(&format!("{head}  - {{type: task, name: t, resourceArn: 'acs:fc:::services/s'}}")).unwrap_err();
    assert!(error.to_string().contains(r#"task "t", field "resourceArn": the function-compute ARN"#), "{error}");
}

#[test]
fn fdl_rejections() {
    let head = "version: v1\ntype: flow\nsteps:\n";
    let cases = [
        ("version: v9\ntype: flow\nsteps: [{type: pass, name: a}]".to_string(), r#"field "version""#),
        (format!("{head}  - {{type: jump, name: a}}"), r#"task "a", field "type": unknown type"#),
        (format!("{head}  - {{type: pass, name: a, goto: z}}"), r#"task "a", field "goto": no task named "z""#),
        (format!("{head}  - {{type: task, name: a}}"), r#"task "a", field "resourceArn""#),
        (format!("{head}  - {{type: task, name: a, action: x, pattern: later}}"), r#"task "a", field "pattern""#),
        (
            format!("{head}  - {{type: task, name: a, action: x, catch: [{{goto: z}}]}}"),
            r#"task "a", field "catch[0].goto""#,
        ),
        (
            format!("{head}  - {{type: choice, name: c, choices: [{{condition: '$.a ==', goto: c}}]}}"),
            r#"task "c", field "choices[0].condition""#,
        ),
        (
            format!("{head}  - {{type: choice, name: c, choices: [{{condition: $.a}}]}}"),
            r#"task "c", field "choices[0].goto""#,
        ),
        (
            format!(
                "{head}  - {{type: choice, name: c, choices: [{{condition: $.a, steps: [{{type: pass, name: p, goto: q}}]}}]}}"
            ),
            r#"task "c/p", field "goto""#,
        ),
        (
            format!("{head}  - {{type: foreach, name: f, steps: [{{type: pass, name: p}}]}}"),
            r#"task "f", field "iterationMapping""#,
        ),
        (format!("{head}  - {{type: wait, name: w}}"), r#"task "w", field "duration""#),
        (
            format!("{head}  - {{type: pass, name: a, inputMappings: [{{target: 'x[*]', source: $input}}]}}"),
            r#"task "a", field "inputMappings[0].target""#,
        ),
        ("version: v1\ntype: flow\nsteps: []".into(), r#"field "steps": must list"#),
    ];
    for (text, expected) in cases {
        let message = rejection(&text);
        assert!(message.contains(expected), "{text}\n  gave: {message}\n  want: {expected}");
    }
}
