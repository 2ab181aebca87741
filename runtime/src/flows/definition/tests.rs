//! DAG parsing and the rejections every format shares.

use serde_json::json;

use super::*;
use crate::flows::data::{Source, apply_mappings};
use crate::flows::graph::{BlockMode, ChoiceTarget, DataFlow, HttpMethod, NodeKind, Resource, TaskPattern};

/// The rejection's text, for definitions that must fail.
pub(super) fn rejection(text: &str) -> String {
    parse(text).map(|_| ()).unwrap_err().to_string()
}

const DEMO: &str = r#"
version: 20230829
workspace: demoFlowTest
dagName: demoTest
type: flow
timer: {timeoutInSeconds: "30"}
defaultContext: {left: 1, meta: '{"a": 1}'}
tasks:
  - category: function
    name: startNode
    next: endNode
    resourceName: http://127.0.0.1:8080/flow/sample/start_node.json
    pattern: task_sync
    tolerance: "true"
    retry: {maxRetryTimes: 2, intervalInSeconds: 3, multiplier: 1.5}
    timeline: {timeoutInSeconds: 5}
    inputMappings:
      - target: $.input.right
        source: $.context.right
    outputMappings:
      - target: $.context.result_number
        source: $.output.result_number
  - category: function
    name: endNode
    resourceName: function://flow-end-node
    pattern: task_async
    requestType: GET
"#;

#[test]
fn dag_header_tasks_and_mappings() {
    let graph = parse(DEMO).unwrap();
    assert_eq!(graph.format, FlowFormat::Dag);
    assert_eq!((graph.name.as_str(), graph.workspace.as_deref()), ("demoTest", Some("demoFlowTest")));
    assert_eq!(graph.timeout_secs, Some(30.0));
    assert_eq!(graph.default_context.get("meta"), Some(&json!("{\"a\": 1}")));
    let root = &graph.root;
    assert_eq!((root.mode, root.start.clone()), (BlockMode::Dag, vec![0]));
    let [start, end] = &root.nodes[..] else { panic!("two nodes") };
    assert_eq!(start.next, vec![1]);
    assert!(start.tolerance);
    assert_eq!(start.timeout_secs, Some(5.0));
    assert_eq!((start.retry[0].max_retries, start.retry[0].interval_secs, start.retry[0].backoff_rate), (2, 3.0, 1.5));
    assert_eq!(start.definition["name"], json!("startNode"));
    let NodeKind::Task(task) = &start.kind else { panic!("task") };
    assert_eq!(task.resource, Resource::Http { url: "http://127.0.0.1:8080/flow/sample/start_node.json".into() });
    let DataFlow::Mappings { input, output } = &start.data else { panic!("mappings") };
    let mut doc = json!({"context": {"right": 4}, "input": {}});
    apply_mappings(input, &mut doc).unwrap();
    assert_eq!(doc["input"], json!({"right": 4}));
    assert_eq!(output[0].target.as_str(), "$.context.result_number");
    let NodeKind::Task(task) = &end.kind else { panic!("task") };
    assert_eq!(task.resource, Resource::Function { name: "flow-end-node".into() });
    assert_eq!((task.pattern, task.method), (TaskPattern::Async, HttpMethod::Get));
}

#[test]
fn dag_legacy_header_and_bare_names() {
    let graph = parse(
        "namespace: ns\nservice: svc\nname: feature\ntype: flow\ntasks:\n- category: function\n  name: a\n  \
         resourceName: ns::f::prod\n  inputMappings: [{target: url, source: url}]\n  outputMappings: [{target: out, source: $.output.x}]\n",
    )
    .unwrap();
    assert_eq!((graph.name.as_str(), graph.workspace.as_deref()), ("svc", Some("ns")));
    let node = &graph.root.nodes[0];
    let DataFlow::Mappings { input, output } = &node.data else { panic!("mappings") };
    assert_eq!(input[0].target.as_str(), "$.input.url");
    assert!(matches!(&input[0].source, Some(Source::Const(v)) if v == &json!("url")));
    assert_eq!(output[0].target.as_str(), "$.context.out");
    let NodeKind::Task(task) = &node.kind else { panic!("task") };
    assert!(matches!(&task.resource, Resource::Unsupported { resource } if resource == "ns::f::prod"));
    assert_eq!(task.pattern, TaskPattern::Sync);
}

#[test]
fn dag_choice_switch_foreach() {
    let graph = parse(
        r#"
type: flow
tasks:
  - {category: pass, name: A, next: "S, C"}
  - category: switch
    name: S
    next: X
    switches:
      - {condition: '$.input.[?(@.n >= 5)]', next: X, break: true}
      - {condition: default, next: 'X,'}
  - category: choice
    name: C
    choices:
      - condition: $.input.[?(@.s == "ok")]
        tasks: [{category: pass, name: inner}]
  - category: foreach
    name: F
    iterationMapping: {collection: $.input.items, item: it, index: i}
    synchronization: {maxConcurrency: "2", conditions: []}
    tasks: [{category: pass, name: p, next: q}, {category: return, name: q, conditions: ['$.input[?(@.x)]']}]
  - {category: suspense, name: X}
"#,
    )
    .unwrap();
    let nodes = &graph.root.nodes;
    assert_eq!(graph.root.start, vec![0, 3]);
    assert_eq!(nodes[0].next, vec![1, 2]);
    let NodeKind::Choice(switch) = &nodes[1].kind else { panic!("switch") };
    assert!(!switch.first_match && switch.rules[0].stop);
    assert!(matches!(&switch.default, Some(ChoiceTarget::Next(n)) if n == &vec![4]));
    let NodeKind::Choice(choice) = &nodes[2].kind else { panic!("choice") };
    assert!(choice.first_match);
    assert!(matches!(&choice.rules[0].target, ChoiceTarget::Block(b) if b.nodes[0].name == "inner"));
    assert!(choice.rules[0].condition.eval(&json!({"input": {"s": "ok"}})).unwrap());
    let NodeKind::Foreach(foreach) = &nodes[3].kind else { panic!("foreach") };
    assert_eq!((foreach.item_key.as_deref(), foreach.index_key.as_deref()), (Some("it"), Some("i")));
    assert_eq!((foreach.max_concurrency, foreach.block.nodes.len(), foreach.block.start.clone()), (2, 2, vec![0]));
    assert!(matches!(&nodes[4].kind, NodeKind::Unsupported { kind } if kind == "suspense"));
}

#[test]
fn dag_input_shorthand_is_converted() {
    let graph = parse(
        "type: flow\ntasks:\n- {category: function, name: a, resourceName: 'http://x', next: b}\n\
         - category: function\n  name: b\n  resourceName: http://x\n  input:\n    body.x: $.a.objs[0].id\n    \
         body.c: $.context.c\n    body.k: 5\n    body.t: {transform: return 1;}\noutput: {end.x: $.b.x}\n",
    )
    .unwrap();
    let DataFlow::Mappings { output, .. } = &graph.root.nodes[0].data else { panic!() };
    assert_eq!(output[0].target.as_str(), "$.context['a']");
    let DataFlow::Mappings { input, .. } = &graph.root.nodes[1].data else { panic!() };
    let mut doc = json!({"context": {"a": {"objs": [{"id": 7}]}, "c": 1}, "input": {}});
    let (scripts, plain): (Vec<_>, Vec<_>) = input.iter().cloned().partition(|m| m.transform.is_some());
    apply_mappings(&plain, &mut doc).unwrap();
    assert_eq!(doc["input"], json!({"body": {"x": 7, "c": 1, "k": 5}}));
    assert_eq!(scripts[0].transform.as_ref().map(|s| s.text()), Some("return 1;"));
}

#[test]
fn dag_rejections_name_task_and_field() {
    let task = |extra: &str| format!("type: flow\ntasks:\n- category: function\n  name: A\n{extra}");
    let url = "  resourceName: http://x\n";
    let cases = [
        ("type: ttt\ntasks: [{category: pass, name: A}]".to_string(), r#"field "type": unknown type "ttt""#),
        ("type: flow\ntasks: []".into(), r#"field "tasks": must list at least one task"#),
        ("type: flow\ntasks:\n- {category: pass}".into(), r#"field "tasks[0].name": is required"#),
        ("type: flow\ntasks: [{category: pass, name: A}, {category: pass, name: A}]".into(), r#"task "A", field "name": duplicate"#),
        ("type: flow\ntasks: [{category: functionXX, name: A}]".into(), r#"task "A", field "category": unknown category"#),
        (task(&format!("{url}  next: Z\n")), r#"task "A", field "next": no task named "Z""#),
        (task("  resourceName: '  '\n"), r#"task "A", field "resourceName": is required"#),
        (task("  resourceName: function://\n"), r#"task "A", field "resourceName""#),
        (task(&format!("{url}  pattern: nope\n")), r#"task "A", field "pattern""#),
        (task(&format!("{url}  inputMappings: [{{target: '$.input[*]', source: $.context.a}}]\n")), r#"task "A", field "inputMappings[0].target""#),
        (task(&format!("{url}  inputMappings: [{{target: a}}, {{target: b, source: '$.context..'}}]\n")), r#"task "A", field "inputMappings[1].source""#),
        (task(&format!("{url}  outputMappings: [{{source: $.output}}]\n")), r#"task "A", field "outputMappings[0].target": is required"#),
        (task(&format!("{url}  successConditions: ['$.output[?(@.x ==)]']\n")), r#"task "A", field "successConditions[0]""#),
        ("type: flow\ntasks: [{category: choice, name: C}]".into(), r#"task "C", field "choices""#),
        ("type: flow\ntasks: [{category: switch, name: S, switches: [{condition: '$$$', next: S}]}]".into(), r#"task "S", field "switches[0].condition""#),
        ("type: flow\ntasks: [{category: foreach, name: F, tasks: [{category: pass, name: p}]}]".into(), r#"task "F", field "iterationMapping""#),
        ("type: flow\ntasks: [{category: foreach, name: F, iterationMapping: {item: x}, tasks: [{category: pass, name: p}]}]".into(), r#"task "F", field "iterationMapping.collection""#),
        ("type: flow\ntasks: [{category: foreach, name: F, iterationMapping: {collection: $.a}}]".into(), r#"task "F", field "tasks""#),
        ("type: flow\ntasks: [{category: foreach, name: F, iterationMapping: {collection: $.a}, tasks: [{category: pass, name: p, next: q}]}]".into(), r#"task "F/p", field "next": no task named "q""#),
        ("type: flow\ntasks: [{category: pass, name: A, next: B}, {category: pass, name: B, next: A}]".into(), "field \"next\": the tasks form a cycle: A → B → A"),
    ];
    for (text, expected) in cases {
        let message = rejection(&text);
        assert!(message.contains(expected), "{text}\n  gave: {message}\n  want: {expected}");
    }
}

#[test]
fn general_rejections() {
    let yaml = rejection("type: flow\ntasks:\n  - name: [a\n");
    assert!(yaml.starts_with("YAML error at line"), "{yaml}");
    assert_eq!(rejection("- a\n- b\n"), "a flow definition must be a mapping");
    assert!(rejection("").contains("mapping"));
    assert!(rejection("foo: 1").contains("cannot tell the definition format"));
    assert!(rejection("Type: Other\nStates: []").starts_with("field \"Type\""));
}

#[test]
fn json_text_and_tags_are_accepted() {
    let graph = parse(r#"{"type": "flow", "tasks": [{"category": "pass", "name": "A"}]}"#).unwrap();
    assert_eq!(graph.root.nodes.len(), 1);
    let graph = parse("type: flow\ntasks:\n- {category: function, name: A, resourceName: !Ref svc/fn}\n").unwrap();
    let NodeKind::Task(task) = &graph.root.nodes[0].kind else { panic!("task") };
    assert!(matches!(&task.resource, Resource::Unsupported { resource } if resource == "svc/fn"));
}
