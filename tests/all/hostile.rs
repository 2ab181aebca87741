//! Guests that misbehave are stopped with an error that says why, and the same engine
//! serves the next invocation afterwards.

use std::time::Duration;

use cloudexec::engine::{EngineError, Limits, Plan};
use cloudexec::testing::TestFunction;
use serde_json::{Value, json};

use crate::support::{bin, function};

fn hostile(limits: Limits) -> anyhow::Result<TestFunction> {
    Ok(function("hostile")?.with_limits(limits))
}

/// The engine still answers after whatever the previous test case did to it.
fn still_serves(f: &TestFunction) -> anyhow::Result<()> {
    let out = f.invoke(json!({"action": "echo", "n": 7}));
    assert_eq!(out.result?, json!({"action": "echo", "n": 7}));
    Ok(())
}

#[test]
fn an_infinite_loop_stops_at_the_deadline() -> anyhow::Result<()> {
    let f = hostile(Limits::default().with_timeout(Duration::from_millis(200)))?;
    let out = f.invoke(json!({"action": "loop"}));
    assert!(
        matches!(out.result, Err(EngineError::DeadlineExceeded { limit }) if limit == Duration::from_millis(200)),
        "{:?}",
        out.result
    );
    assert!(out.duration >= Duration::from_millis(200), "not before its deadline: {:?}", out.duration);
    still_serves(&f)
}

#[test]
fn a_memory_bomb_stops_at_the_plan_cap() -> anyhow::Result<()> {
    for plan in [Plan::Free, Plan::Personal] {
        let f = hostile(Limits::sync(plan))?;
        let out = f.invoke(json!({"action": "bomb"}));
        match out.result {
            Err(EngineError::MemoryLimitExceeded { limit_bytes }) => {
                assert_eq!(limit_bytes, plan.memory_bytes())
            }
            other => panic!("expected the memory cap, got {other:?}"),
        }
        assert!(out.peak_memory_bytes <= plan.memory_bytes());
        assert!(out.peak_memory_bytes > plan.memory_bytes() / 2, "it got near the cap: {}", out.peak_memory_bytes);
        still_serves(&f)?;
    }
    Ok(())
}

#[test]
fn one_huge_allocation_is_a_memory_error() -> anyhow::Result<()> {
    let f = hostile(Limits::default())?;
    let out = f.invoke(json!({"action": "grow"}));
    assert!(matches!(out.result, Err(EngineError::MemoryLimitExceeded { .. })), "{:?}", out.result);
    still_serves(&f)
}

#[test]
fn a_panic_is_a_trap_with_the_panic_message() -> anyhow::Result<()> {
    let f = hostile(Limits::default())?;
    let out = f.invoke(json!({"action": "panic"}));
    match &out.result {
        Err(EngineError::Trap { message, backtrace }) => {
            assert!(message.contains("hostile guest panicked on purpose"), "{message}");
            assert!(!backtrace.is_empty(), "a backtrace summary is kept");
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(out.log.text.contains("panicked"), "stderr is in the log: {}", out.log.text);
    still_serves(&f)
}

#[test]
fn unreachable_is_a_trap() -> anyhow::Result<()> {
    let f = hostile(Limits::default())?;
    let out = f.invoke(json!({"action": "unreachable"}));
    match &out.result {
        Err(EngineError::Trap { message, .. }) => {
            assert!(message.contains("unreachable"), "{message}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    still_serves(&f)
}

#[test]
fn deep_recursion_is_a_clean_stack_overflow_error() -> anyhow::Result<()> {
    let f = hostile(Limits::default())?;
    let out = f.invoke(json!({"action": "recurse"}));
    match &out.result {
        Err(EngineError::Trap { message, .. }) => {
            assert!(message.contains("stack overflow"), "{message}")
        }
        other => panic!("expected a stack overflow, got {other:?}"),
    }
    still_serves(&f)
}

#[test]
fn printing_100_mb_is_truncated_at_the_log_cap() -> anyhow::Result<()> {
    let limits = Limits { timeout: Duration::from_secs(60), ..Limits::default() };
    let f = hostile(limits)?;
    let out = f.invoke(json!({"action": "print", "mb": 100}));
    assert_eq!(out.result?, json!({"ok": true, "printed_mb": 100}), "the guest kept running");
    assert!(out.log.truncated());
    assert!(out.log.dropped_bytes >= 99 << 20, "{}", out.log.dropped_bytes);
    assert!(out.log.text.len() < limits.log_bytes + 200, "{}", out.log.text.len());
    assert!(out.log.text.ends_with("bytes dropped]\n"));
    still_serves(&f)
}

#[test]
fn a_guest_error_is_reported_with_its_code() -> anyhow::Result<()> {
    let f = hostile(Limits::default())?;
    match f.invoke(json!({"action": "error"})).result {
        Err(EngineError::Guest { code, message }) => {
            assert_eq!(code, "Boom");
            assert_eq!(message, "guest chose to fail");
        }
        other => panic!("expected a guest error, got {other:?}"),
    }
    Ok(())
}

#[test]
fn log_levels_stdout_and_stderr_land_in_one_log() -> anyhow::Result<()> {
    let out = hostile(Limits::default())?.invoke(json!({"action": "log"}));
    assert_eq!(out.result?, json!({"ok": true}));
    for line in ["[TRACE] level trace", "[INFO] level info", "[ERROR] level error", "to stdout", "to stderr"] {
        assert!(out.log.text.contains(line), "missing {line:?} in {:?}", out.log.text);
    }
    Ok(())
}

#[test]
fn a_bin_that_traps_after_changes_commits_nothing() -> anyhow::Result<()> {
    let b = bin("hostile-bin")?;
    let mut instance = b.instance();
    let before = instance.state().clone();
    let run = instance.run(json!({"trap": true}))?;
    assert!(matches!(run.result, Err(EngineError::Trap { .. })), "{:?}", run.result);
    assert!(run.state.is_none());
    assert_eq!(instance.state(), &before, "variables and path unchanged");
    assert_eq!(instance.path(1), ["a"]);
    Ok(())
}

#[test]
fn a_bin_that_loops_is_stopped_and_rolled_back() -> anyhow::Result<()> {
    let b = bin("hostile-bin")?;
    let mut instance = b.instance();
    instance.set_limits(Limits::default().with_timeout(Duration::from_millis(150)));
    let run = instance.run(json!({"loop": true}))?;
    assert!(matches!(run.result, Err(EngineError::DeadlineExceeded { .. })), "{:?}", run.result);
    assert_eq!(instance.var("touched"), None);
    assert_eq!(instance.var("loop"), None, "not even the updates are kept");
    Ok(())
}

#[test]
fn a_bin_cannot_call_undeclared_keys_or_make_undeclared_moves() -> anyhow::Result<()> {
    let b = bin("hostile-bin")?;
    let mut instance = b.instance();
    instance.stub("not.declared", |_| Ok(json!("should never run")));
    instance.run(json!({"undeclared": true, "bad_transition": true}))?.result?;
    let call_error = instance.var("callError").and_then(Value::as_str).unwrap_or_default();
    assert!(call_error.contains("not declared in the bin's manifest"), "{call_error}");
    let errors = instance.var("transitionErrors").cloned().unwrap_or_default();
    let text = errors.to_string();
    assert!(text.contains("cannot move from") && text.contains("no state"), "{text}");
    assert_eq!(instance.path(1), ["a"]);
    Ok(())
}

#[test]
fn a_bin_error_keeps_what_the_bin_chose() -> anyhow::Result<()> {
    let b = bin("hostile-bin")?;
    let mut instance = b.instance();
    let run = instance.run(json!({"fail": true}))?;
    assert!(matches!(&run.result, Err(EngineError::Guest { code, .. }) if code == "BinFailed"), "{:?}", run.result);
    assert_eq!(instance.var("beforeFail"), Some(&json!(true)));
    Ok(())
}

#[test]
fn a_stubbed_function_answers_a_bin() -> anyhow::Result<()> {
    let b = bin("hostile-bin")?;
    let mut instance = b.instance();
    instance.stub("test.echo", |params| Ok(params.first().cloned().unwrap_or_default()));
    instance.run(json!({"echo": "ping"}))?.result?;
    assert_eq!(instance.var("echoed"), Some(&json!("ping")));
    Ok(())
}

#[test]
fn a_looping_guest_does_not_hold_up_other_invocations() -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let looping = hostile(Limits::default().with_timeout(Duration::from_secs(3)))?;
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let spinner = std::thread::spawn(move || {
        let out = looping.invoke(json!({"action": "loop"}));
        flag.store(true, Ordering::SeqCst);
        out.result
    });
    let hello = function("hello")?;
    for i in 0..10 {
        let out = hello.invoke(json!({"name": format!("n{i}")}));
        assert_eq!(out.result?, json!({"greeting": format!("Hello, n{i}!")}));
    }
    assert!(!finished.load(Ordering::SeqCst), "the other invocations finished while the loop still ran");
    let looped = spinner.join().map_err(|_| anyhow::anyhow!("the looping thread panicked"))?;
    assert!(matches!(looped, Err(EngineError::DeadlineExceeded { .. })), "{looped:?}");
    Ok(())
}
