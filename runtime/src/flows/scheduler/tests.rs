//! The scheduler alone: definitions in, events in, states and actions out (no I/O).

use serde_json::{Value as Json, json};

use super::{Action, ErrorInfo, Event, ExecState, ExecStatus, TaskStatus, step};
use crate::flows::definition::parse;
use crate::flows::graph::FlowGraph;

fn graph(yaml: &str) -> FlowGraph {
    parse(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn runs(actions: &[Action]) -> Vec<(String, u32, Json)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Run(run) => Some((run.key.clone(), run.attempt, run.input.clone())),
            _ => None,
        })
        .collect()
}

fn started(graph: &FlowGraph, input: Json, max: usize) -> (ExecState, Vec<Action>) {
    let mut state = ExecState::new(input, max);
    let actions = step(graph, &mut state, Event::Start, 0);
    (state, actions)
}

const CHAIN: &str = "version: 1\ntype: flow\ndagName: c\ntasks:\n  - category: function\n    name: A\n    resourceName: http://a\n    \
    pattern: task_sync\n    next: B\n    inputMappings: [{target: $.input.x, source: $.context.x}]\n    \
    outputMappings: [{target: $.context.y, source: $.output.y}]\n    retry: {maxRetryTimes: 1, intervalInSeconds: 2, multiplier: 1}\n  \
    - {category: pass, name: B}\n";

#[test]
fn a_task_runs_on_its_mapped_input_and_its_output_is_mapped_back() {
    let g = graph(CHAIN);
    let (mut state, actions) = started(&g, json!({"x": 5}), 8);
    assert_eq!(runs(&actions), vec![("A".to_string(), 1, json!({"x": 5}))]);
    assert_eq!(state.status, ExecStatus::Running);
    let done = step(&g, &mut state, Event::TaskSucceeded { key: "A".into(), attempt: 1, output: json!({"y": 6}) }, 10);
    assert!(matches!(done.as_slice(), [Action::Finished]));
    assert_eq!(state.status, ExecStatus::Succeeded);
    assert_eq!(state.output, Some(json!({"x": 5, "y": 6})));
    assert_eq!(state.tasks["B"].status(), TaskStatus::Succeed);
}

#[test]
fn a_failure_waits_for_its_retry_timer_and_stale_answers_are_ignored() {
    let g = graph(CHAIN);
    let (mut state, _) = started(&g, json!({}), 8);
    let failed = ErrorInfo::new("HTTP.500", "boom");
    let actions = step(&g, &mut state, Event::TaskFailed { key: "A".into(), attempt: 1, error: failed.clone() }, 100);
    let [Action::SetTimer { timer, at, .. }] = actions.as_slice() else { panic!("{actions:?}") };
    assert_eq!(*at, 100 + 2_000_000);
    // A late answer of attempt 1 changes nothing.
    assert!(
        step(&g, &mut state, Event::TaskSucceeded { key: "A".into(), attempt: 1, output: json!({}) }, 150).is_empty()
    );
    let retried = step(&g, &mut state, Event::TimerFired { key: "A".into(), timer: *timer }, 200);
    assert_eq!(runs(&retried)[0].1, 2);
    let exhausted = step(&g, &mut state, Event::TaskFailed { key: "A".into(), attempt: 2, error: failed }, 300);
    assert!(matches!(exhausted.as_slice(), [Action::Finished]));
    assert_eq!(state.status, ExecStatus::Failed);
    assert!(!state.tasks.contains_key("B"), "B never started");
}

#[test]
fn foreach_opens_at_most_max_concurrency_iterations() {
    let yaml = "version: 1\ntype: flow\ndagName: f\ntasks:\n  - category: foreach\n    name: each\n    \
        inputMappings: [{target: $.input.items, source: $.context.items}]\n    iterationMapping: {collection: $.input.items, item: it}\n    \
        synchronization: {maxConcurrency: 2}\n    tasks:\n      - category: function\n        name: w\n        resourceName: http://w\n        \
        pattern: task_sync\n        inputMappings: [{target: $.input.it, source: $.context.it}]\n";
    let g = graph(yaml);
    let (mut state, actions) = started(&g, json!({"items": [1, 2, 3, 4, 5]}), 16);
    let first = runs(&actions);
    assert_eq!(first.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["each_0-w", "each_1-w"]);
    assert_eq!(first[1].2, json!({"it": 2}));
    let next = step(&g, &mut state, Event::TaskSucceeded { key: "each_0-w".into(), attempt: 1, output: json!(1) }, 1);
    assert_eq!(runs(&next).iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["each_2-w"]);
}

#[test]
fn the_execution_limit_queues_ready_tasks() {
    let yaml = "version: 1\ntype: flow\ndagName: p\ntasks:\n  - {category: pass, name: S, next: 'A,B,C'}\n  \
        - {category: function, name: A, resourceName: 'http://a', pattern: task_sync}\n  \
        - {category: function, name: B, resourceName: 'http://b', pattern: task_sync}\n  \
        - {category: function, name: C, resourceName: 'http://c', pattern: task_sync}\n";
    let g = graph(yaml);
    let (mut state, actions) = started(&g, json!({}), 2);
    assert_eq!(runs(&actions).len(), 2);
    assert_eq!(state.tasks["C"].status(), TaskStatus::Ready);
    let next = step(&g, &mut state, Event::TaskSucceeded { key: "A".into(), attempt: 1, output: json!({}) }, 1);
    assert_eq!(runs(&next)[0].0, "C");
}

#[test]
fn a_restart_runs_interrupted_attempts_again_and_keeps_finished_ones() {
    let g = graph(CHAIN);
    let (state, _) = started(&g, json!({}), 8);
    let stored = serde_json::to_value(&state).unwrap_or_default();
    let mut restored: ExecState = serde_json::from_value(stored).unwrap_or_else(|e| panic!("{e}"));
    let actions = step(&g, &mut restored, Event::Recover, 5);
    // A has a retry rule with one retry left: the interruption uses it (after its interval).
    assert!(actions.iter().any(|a| matches!(a, Action::SetTimer { key, .. } if key == "A")), "{actions:?}");
    assert_eq!(restored.tasks["A"].error().map(|e| e.error.as_str()), Some("States.Interrupted"));
}

#[test]
fn a_return_whose_condition_holds_skips_what_follows() {
    let yaml = "version: 1\ntype: flow\ndagName: r\ntasks:\n  - category: return\n    name: R\n    next: X\n    \
        inputMappings: [{target: $.input.stop, source: $.context.stop}]\n    conditions: ['$.input.[?(@.stop == true)]']\n  \
        - {category: pass, name: X}\n";
    let g = graph(yaml);
    let (state, _) = started(&g, json!({"stop": true}), 4);
    assert_eq!((state.tasks["R"].status(), state.tasks["X"].status()), (TaskStatus::Succeed, TaskStatus::Skipped));
    assert_eq!(state.status, ExecStatus::Succeeded);
    let (state, _) = started(&g, json!({"stop": false}), 4);
    assert_eq!((state.tasks["R"].status(), state.tasks["X"].status()), (TaskStatus::Skipped, TaskStatus::Succeed));
}

#[test]
fn a_state_machine_loop_that_never_waits_fails_instead_of_spinning() {
    let yaml = "Type: StateMachine\nSpecVersion: v1\nName: l\nStartAt: A\nStates:\n  - {Name: A, Type: Pass, Next: B}\n  - {Name: B, Type: Pass, Next: A}\n";
    let g = graph(yaml);
    let (state, actions) = started(&g, json!({}), 4);
    assert!(matches!(actions.as_slice(), [Action::Finished]));
    assert_eq!(state.status, ExecStatus::Failed);
    assert!(state.error.as_ref().is_some_and(|e| e.cause.contains("endless loop")));
}

#[test]
fn a_switch_skips_the_targets_of_cases_that_did_not_match_even_when_next_lists_them() {
    // Rill Flow's SwitchTaskTraversalTest: the switch also has `next: A,B`; only the
    // matching case's target runs. `C` is only in `next`, so it always runs.
    let yaml = "version: 1\ntype: flow\ndagName: s\ntasks:\n  - {category: pass, name: A}\n  - {category: pass, name: B}\n  \
        - {category: pass, name: C}\n  - category: switch\n    name: sw\n    next: A,B,C\n    \
        inputMappings: [{target: $.input.n, source: $.context.n}]\n    switches:\n      \
        - {next: A, condition: '$.input.[?(@.n == 0)]'}\n      - {next: B, condition: '$.input.[?(@.n == 1)]'}\n";
    let g = graph(yaml);
    let status = |state: &ExecState, key: &str| state.tasks[key].status();
    for (n, ran, skipped) in [(0, "A", "B"), (1, "B", "A")] {
        let (state, _) = started(&g, json!({"n": n}), 4);
        assert_eq!(state.status, ExecStatus::Succeeded);
        assert_eq!((status(&state, ran), status(&state, skipped)), (TaskStatus::Succeed, TaskStatus::Skipped), "n={n}");
        assert_eq!(status(&state, "C"), TaskStatus::Succeed);
    }
    let (state, _) = started(&g, json!({"n": 7}), 4);
    assert_eq!((status(&state, "A"), status(&state, "B")), (TaskStatus::Skipped, TaskStatus::Skipped));
}

#[test]
fn degrade_skips_the_task_its_followings_or_both() {
    // Rill Flow's TaskDegradeTest: A fans out to B→D and C→E.
    let dag = |degrade: &str| {
        format!(
            "version: 1\ntype: flow\ndagName: d\ntasks:\n  - {{category: pass, name: A, next: 'B,C', degrade: {degrade}}}\n  \
             - {{category: pass, name: B, next: D}}\n  - {{category: pass, name: C, next: E}}\n  \
             - {{category: pass, name: D}}\n  - {{category: pass, name: E}}\n"
        )
    };
    let (ok, skipped) = (TaskStatus::Succeed, TaskStatus::Skipped);
    for (degrade, a, rest) in [
        ("{current: true}", skipped, ok),
        ("{followings: true}", ok, skipped),
        ("{current: true, followings: true}", skipped, skipped),
        ("{current: false}", ok, ok),
    ] {
        let g = graph(&dag(degrade));
        let (state, actions) = started(&g, json!({}), 4);
        assert!(matches!(actions.as_slice(), [Action::Finished]), "{degrade}");
        assert_eq!(state.status, ExecStatus::Succeeded, "{degrade}");
        assert_eq!(state.tasks["A"].status(), a, "{degrade}");
        for key in ["B", "C", "D", "E"] {
            assert_eq!(state.tasks[key].status(), rest, "{degrade}: {key}");
        }
    }
}

#[test]
fn fdl_steps_without_mappings_get_and_extend_the_whole_data() {
    let g = graph("version: v1\ntype: flow\nsteps:\n  - type: task\n    name: t\n    resourceArn: http://x/y\n");
    let (mut state, actions) = started(&g, json!({"a": 1}), 4);
    assert_eq!(runs(&actions), vec![("t".to_string(), 1, json!({"a": 1}))]);
    step(&g, &mut state, Event::TaskSucceeded { key: "t".into(), attempt: 1, output: json!({"b": 2}) }, 1);
    assert_eq!(state.output, Some(json!({"a": 1, "b": 2})));
}

#[test]
fn a_state_stored_before_the_finished_count_existed_still_ends_after_a_restart() {
    let yaml = "version: 1\ntype: flow\ndagName: k\ntasks:\n  - {category: pass, name: P, next: T}\n  \
                - {category: function, name: T, resourceName: http://t, pattern: task_sync, next: Q}\n  \
                - {category: pass, name: Q}\n";
    let g = graph(yaml);
    let (state, _) = started(&g, json!({}), 8);
    assert_eq!(state.tasks["P"].status(), TaskStatus::Succeed);
    // As an older server stored it: without `terminal_marks`.
    let mut stored = serde_json::to_value(&state).unwrap_or_default();
    for scope in stored["scopes"].as_array_mut().into_iter().flatten() {
        scope.as_object_mut().map(|s| s.remove("terminal_marks"));
    }
    let mut restored: ExecState = serde_json::from_value(stored).unwrap_or_else(|e| panic!("{e}"));
    let actions = step(&g, &mut restored, Event::Recover, 5);
    let attempt = runs(&actions).first().map_or(1, |r| r.1);
    step(&g, &mut restored, Event::TaskSucceeded { key: "T".into(), attempt, output: json!({}) }, 10);
    assert_eq!(restored.status, ExecStatus::Succeeded, "{:?}", restored.tasks);
}

#[test]
fn an_execution_past_its_history_limit_fails_instead_of_writing_for_ever() {
    let g = graph(CHAIN);
    let (mut state, _) = started(&g, json!({}), 8);
    state.seq = super::MAX_HISTORY_EVENTS;
    let failed = ErrorInfo::new("HTTP.500", "boom");
    step(&g, &mut state, Event::TaskFailed { key: "A".into(), attempt: 1, error: failed }, 100);
    assert_eq!(state.status, ExecStatus::Failed);
    assert!(state.error.as_ref().is_some_and(|e| e.cause.contains("history events")), "{:?}", state.error);
}
