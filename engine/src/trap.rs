//! Turning a failed wasm call into an [`EngineError`] that says what happened.

use std::time::Duration;

use wasmtime::{PoolConcurrencyLimitError, Store, Trap, WasmBacktrace};

use super::capture::CapturedLog;
use super::error::EngineError;
use super::host::HostState;

/// Frames of the wasm backtrace kept in a trap error.
const BACKTRACE_FRAMES: usize = 8;

/// The error a guest returned, unless the memory cap refused it memory during the call:
/// an interpreter (Python, JavaScript) turns a refused growth into an exception that the
/// guest then reports as its own error, but the cause is the cap, as for a Rust guest.
pub(crate) fn guest_error(e: crate::bindings::WitError, store: &Store<HostState>) -> EngineError {
    let limiter = &store.data().limiter;
    if limiter.denied() {
        return EngineError::MemoryLimitExceeded { limit_bytes: limiter.cap() };
    }
    EngineError::Guest { code: e.code, message: e.message }
}

/// Classifies a failure of instantiation or a call: a full instance pool is `Busy`;
/// then deadline (an interrupted guest may also have hit other limits), then memory (a
/// refused growth makes a Rust guest abort with `unreachable`, so it must win over the
/// trap), then the trap itself.
pub(crate) fn classify(
    err: wasmtime::Error,
    store: &Store<HostState>,
    timeout: Duration,
    log: &CapturedLog,
) -> EngineError {
    if let Some(full) = err.downcast_ref::<PoolConcurrencyLimitError>() {
        return EngineError::Busy(full.to_string());
    }
    let trap = err.downcast_ref::<Trap>().copied();
    if trap == Some(Trap::Interrupt) {
        return EngineError::DeadlineExceeded { limit: timeout };
    }
    let limiter = &store.data().limiter;
    if limiter.denied() {
        return EngineError::MemoryLimitExceeded { limit_bytes: limiter.cap() };
    }
    let backtrace = err.downcast_ref::<WasmBacktrace>().map(summarize).unwrap_or_default();
    let message = match trap {
        Some(Trap::StackOverflow) => "stack overflow: the guest recursed too deeply".to_string(),
        // Rust and C guests keep their stack at the bottom of linear memory, so a deep
        // recursion runs the stack pointer below address 0 and faults here.
        Some(Trap::MemoryOutOfBounds) if panic_message(&log.output().text).is_none() => {
            "out of bounds memory access: most likely a stack overflow (the guest's stack lives in its linear memory)"
                .to_string()
        }
        Some(trap) => match panic_message(&log.output().text) {
            Some(panic) => format!("{panic} ({trap})"),
            None => trap.to_string(),
        },
        None => format!("{err:#}"),
    };
    EngineError::Trap { message, backtrace }
}

fn summarize(backtrace: &WasmBacktrace) -> Vec<String> {
    backtrace
        .frames()
        .iter()
        .take(BACKTRACE_FRAMES)
        .map(|frame| {
            let name = frame.func_name().unwrap_or("<unknown>");
            format!("{}!{name}", frame.module().name().unwrap_or("<module>"))
        })
        .collect()
}

/// The message of the last Rust panic the guest printed to stderr, if any.
/// Rust prints `thread '...' panicked at file:line:col:` and the message on the next line.
fn panic_message(log: &str) -> Option<String> {
    let mut lines = log.lines();
    let mut found = None;
    while let Some(line) = lines.next() {
        if line.contains("panicked at") {
            found = lines.next().map(str::to_string);
        }
    }
    found.filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn finds_the_last_panic_message() {
        let log = "hello\nthread '<unnamed>' panicked at src/lib.rs:3:5:\nboom here\nnote: run with RUST_BACKTRACE\n";
        assert_eq!(panic_message(log).as_deref(), Some("boom here"));
        assert_eq!(panic_message("no panic"), None);
    }
}
