//! Text and JSON rendering shared by the CLI commands.

use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::engine::EngineError;

/// An engine error as JSON: its kind word and message (plus backtrace for traps).
pub(super) fn error_json(error: &EngineError) -> Json {
    let mut out = json!({"kind": error.kind(), "message": error.to_string()});
    if let EngineError::Trap { backtrace, .. } = error {
        out["backtrace"] = json!(backtrace);
    }
    if let EngineError::Guest { code, .. } = error {
        out["code"] = json!(code);
    }
    out
}

/// Prints the captured log indented under a `log:` heading.
pub(super) fn print_log(log: &str) {
    if log.is_empty() {
        println!("log: (empty)");
        return;
    }
    println!("log:");
    for line in log.lines() {
        println!("  {line}");
    }
}

/// Prints peak memory and time taken.
pub(super) fn print_usage(peak_bytes: u64, duration: Duration) {
    println!("peak memory: {:.1} MiB ({peak_bytes} bytes)", peak_bytes as f64 / (1024.0 * 1024.0));
    println!("time: {:.2} ms", duration.as_secs_f64() * 1e3);
}
