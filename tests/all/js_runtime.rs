//! The JavaScript runtime component (`examples/js-runtime`) that runs seed 001's cloud
//! functions: it takes `{source, event}`, evaluates the source and calls
//! `exports.main(event, callback)`. Run in-process, as the server will run it.

use std::time::Duration;

use cloudexec::engine::{EngineError, Limits};
use serde_json::{Value, json};

use crate::support::function;

/// Seed 001's own example `function_code`.
const SEED_EXAMPLE: &str =
    "exports.main = function functionName(event, callback) {\n callback(null, \"hello world\")\n}";

fn call(source: &str, event: Value) -> anyhow::Result<cloudexec::engine::Invocation> {
    call_within(source, event, Duration::from_secs(10))
}

/// A call with its own deadline: one that must end at another limit first gets seconds of
/// room on a busy 2-core debug run.
fn call_within(source: &str, event: Value, deadline: Duration) -> anyhow::Result<cloudexec::engine::Invocation> {
    let runtime = function("js-runtime")?.with_limits(Limits::default().with_timeout(deadline));
    Ok(runtime.invoke(json!({ "source": source, "event": event })))
}

fn guest_error(out: cloudexec::engine::Invocation) -> (String, String) {
    match out.result {
        Err(EngineError::Guest { code, message }) => (code, message),
        other => panic!("expected a guest error, got {other:?}"),
    }
}

#[test]
fn seed_001_s_example_answers_hello_world_through_its_callback() -> anyhow::Result<()> {
    let out = call(SEED_EXAMPLE, json!({}))?;
    assert_eq!(out.result?, json!("hello world"));
    Ok(())
}

#[test]
fn the_event_reaches_main_and_an_async_main_s_value_is_the_answer() -> anyhow::Result<()> {
    let echo = "exports.main = function (event, callback) { callback(null, { got: event.data, n: event.data.n + 1 }) }";
    let out = call(echo, json!({ "data": { "n": 41 } }))?;
    assert_eq!(out.result?, json!({ "got": { "n": 41 }, "n": 42 }));
    let awaited =
        "exports.main = async function (event) { const v = await Promise.resolve(event.x * 2); return { v } }";
    assert_eq!(call(awaited, json!({ "x": 21 }))?.result?, json!({ "v": 42 }));
    let module_style = "module.exports.main = (event, cb) => cb(null, [1, 'two', null])";
    assert_eq!(call(module_style, json!({}))?.result?, json!([1, "two", null]));
    Ok(())
}

#[test]
fn console_lines_go_into_the_job_log() -> anyhow::Result<()> {
    let logging = "exports.main = function (event, callback) {\n console.log('received', event);\n \
                   console.warn('careful'); console.error('bad', 1);\n callback(null, 'ok') }";
    let out = call(logging, json!({ "a": 1 }))?;
    let log = out.log.text.clone();
    assert_eq!(out.result?, json!("ok"));
    assert!(log.contains("[INFO] received {\"a\":1}"), "{log}");
    assert!(log.contains("[WARN] careful") && log.contains("[ERROR] bad 1"), "{log}");
    Ok(())
}

#[test]
fn a_throw_a_callback_error_and_a_rejection_fail_with_their_message() -> anyhow::Result<()> {
    let cases = [
        ("exports.main = function () { throw new Error('no stock') }", "no stock"),
        ("exports.main = function (e, callback) { callback(new Error('card declined')) }", "card declined"),
        ("exports.main = function (e, callback) { callback('plain text') }", "plain text"),
        ("exports.main = async function () { throw new Error('async boom') }", "async boom"),
    ];
    for (source, wanted) in cases {
        let (code, message) = guest_error(call(source, json!({}))?);
        assert_eq!((code.as_str(), message.as_str()), ("JsError", wanted), "{source}");
    }
    let (code, message) = guest_error(call("var x = 1;", json!({}))?);
    assert_eq!(code, "JsError");
    assert!(message.contains("exports.main"), "{message}");
    Ok(())
}

#[test]
fn a_syntax_error_names_its_line() -> anyhow::Result<()> {
    let broken = "exports.main = function (event, callback) {\n  callback(null, 1\n}\n";
    let (code, message) = guest_error(call(broken, json!({}))?);
    assert_eq!(code, "SyntaxError", "{message}");
    assert!(message.contains("line 3"), "{message}");
    Ok(())
}

#[test]
fn a_loop_stops_at_the_deadline() -> anyhow::Result<()> {
    let runtime = function("js-runtime")?.with_limits(Limits::default().with_timeout(Duration::from_secs(2)));
    let out = runtime.invoke(json!({ "source": "exports.main = function () { for (;;) {} }", "event": {} }));
    assert!(matches!(out.result, Err(EngineError::DeadlineExceeded { .. })), "{:?}", out.result);
    Ok(())
}

#[test]
fn hostile_javascript_meets_the_same_limits_as_any_guest() -> anyhow::Result<()> {
    // Memory: the plan's cap stops a script that keeps allocating. Each step allocates
    // 8 MB in one native call (filling arrays element by element in boa's interpreter
    // once took over 10 s to reach the cap on a busy CI machine), and the deadline is far.
    let hog =
        "exports.main = function () { var keep = []; for (var i = 0; ; i++) { keep.push('x'.repeat(1 << 22) + i); } }";
    let out = call_within(hog, json!({}), Duration::from_secs(120))?;
    assert!(matches!(out.result, Err(EngineError::MemoryLimitExceeded { .. })), "{:?}", out.result);
    // Unbounded recursion ends as an error of the call, not of the host.
    let deep = "exports.main = function () { function f(n) { return f(n + 1) + 1; } return f(0); }";
    let out = call(deep, json!({}))?;
    let (code, message) = guest_error(out);
    assert_eq!(code, "JsError");
    assert!(message.starts_with("RuntimeLimitError") && message.len() < 4096, "{message}");
    // Megabytes of console output are capped in the log.
    let chatty = "exports.main = function (e, cb) { for (var i = 0; i < 200000; i++) console.log('x'.repeat(100)); cb(null, 1) }";
    let out = call(chatty, json!({}))?;
    assert!(out.log.text.len() <= 2 * 1024 * 1024, "log of {} bytes", out.log.text.len());
    // The runtime still answers.
    assert_eq!(call(SEED_EXAMPLE, json!({}))?.result?, json!("hello world"));
    Ok(())
}
