//! `hostile`: a misbehaving function, used by the host's tests to show what the sandbox
//! stops (runaway loops, memory bombs, traps, floods of output, escapes).
//!
//! Input `{"action": "...", ...}`. Actions: `echo` (returns the input), `error` (a `Boom`
//! error), `log` (a line at every level, plus stdout and stderr), `loop` (spins forever),
//! `bomb` (allocates 1 MiB chunks forever), `grow` (one 1 GiB allocation), `panic`,
//! `unreachable` (a wasm trap), `print` (`mb` MiB of stdout), `recurse` (stack overflow),
//! and the escape attempts `read_file`, `env` and `socket`, which report in `ok` whether
//! they got anywhere; `stash` leaves a marker all over its memory (a static, the stack,
//! the heap, a grown page) and `peek` counts the markers it finds in its own, which an
//! invocation must never inherit from an earlier one. Never deploy it.

use std::hint::black_box;
use std::io::Write;

use cloudexec_sdk::{Error, debug, error, function, info, trace, warn};
use serde_json::{Value, json};

/// Runs the misbehaviour named by `action`.
#[function]
fn hostile(input: Value) -> Result<Value, Error> {
    match input.get("action").and_then(Value::as_str).unwrap_or_default() {
        "echo" => Ok(input),
        "error" => Err(Error::new("Boom", "guest chose to fail")),
        "log" => Ok(log()),
        "loop" => spin(),
        "bomb" => bomb(),
        "grow" => Ok(grow()),
        "stash" => Ok(stash()),
        "peek" => Ok(peek()),
        "panic" => panic!("hostile guest panicked on purpose"),
        "unreachable" => core::arch::wasm32::unreachable(),
        "print" => print(&input),
        "recurse" => Ok(json!(recurse(0, &[0; 16]))),
        "read_file" => Ok(read_file()),
        "env" => Ok(env()),
        "socket" => Ok(socket(&input)),
        other => Err(Error::new("InvalidArgument", format!("unknown action {other:?}"))),
    }
}

fn log() -> Value {
    trace!("level trace");
    debug!("level debug");
    info!("level info");
    warn!("level warn");
    error!("level error");
    println!("to stdout");
    eprintln!("to stderr");
    json!({ "ok": true })
}

fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

fn bomb() -> ! {
    let mut chunks = Vec::new();
    loop {
        chunks.push(vec![0xA5u8; 1 << 20]);
        black_box(&mut chunks);
    }
}

fn grow() -> Value {
    let mut big = Vec::<u8>::with_capacity(1 << 30);
    big.spare_capacity_mut()[(1 << 30) - 1].write(1);
    black_box(&big);
    json!({ "ok": true })
}

/// Byte `i` of the 16-byte marker `stash` writes. Computed, never stored as a constant,
/// so no module data contains it.
fn marker(i: usize) -> u8 {
    (i as u8).wrapping_mul(37).wrapping_add(0xA5)
}

fn fill_with_marker(bytes: &mut [u8]) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = marker(i % 16);
    }
}

/// Static memory `stash` fills (zero in a fresh instance).
static mut STASHED: [u8; 4096] = [0; 4096];

const PAGE: usize = 65536;

/// Leaves the marker in a static, on the stack, on the heap and in a newly grown page.
fn stash() -> Value {
    // SAFETY: a guest is single-threaded and nothing else refers to `STASHED`.
    fill_with_marker(unsafe { std::slice::from_raw_parts_mut((&raw mut STASHED).cast::<u8>(), 4096) });
    let mut on_stack = [0u8; 64 * 1024];
    fill_with_marker(&mut on_stack);
    black_box(&on_stack);
    let mut on_heap = vec![0u8; 256 * 1024];
    fill_with_marker(&mut on_heap);
    std::mem::forget(black_box(on_heap));
    let page = core::arch::wasm32::memory_grow(0, 1);
    if page != usize::MAX {
        // SAFETY: the page was just added to linear memory and nothing else uses it.
        fill_with_marker(unsafe { std::slice::from_raw_parts_mut((page * PAGE) as *mut u8, PAGE) });
    }
    json!({ "ok": true })
}

/// Counts the markers in the whole of this instance's linear memory (and a new page).
fn peek() -> Value {
    core::arch::wasm32::memory_grow(0, 1);
    let end = core::arch::wasm32::memory_size(0) * PAGE;
    let byte = |at: usize| {
        // SAFETY: every address below the memory size is a valid load in wasm; the first
        // KiB (null and near it) is skipped.
        unsafe { std::ptr::read_volatile(at as *const u8) }
    };
    let found = (1024..end - 16).step_by(16).filter(|at| (0..16).all(|i| byte(at + i) == marker(i))).count();
    json!({ "ok": found == 0, "markers": found, "bytes_scanned": end - 1024 })
}

/// Writes `mb` MiB to stdout in 1 KiB lines.
fn print(input: &Value) -> Result<Value, Error> {
    let Some(mb) = input.get("mb").and_then(Value::as_u64) else {
        return Err(Error::new("InvalidArgument", "mb must be a whole number"));
    };
    let line = "x".repeat(1023);
    let mut out = std::io::stdout().lock();
    for _ in 0..mb * 1024 {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    Ok(json!({ "ok": true, "printed_mb": mb }))
}

/// Recurses until the stack runs out. Each frame lends itself to the next call and the
/// result goes through `black_box`, so the optimizer can neither reuse frames nor turn
/// the recursion into a loop.
fn recurse(depth: u64, caller: &[u64; 16]) -> u64 {
    let frame = black_box([depth; 16]);
    if black_box(depth) == u64::MAX {
        return caller[0];
    }
    black_box(recurse(depth + 1, &frame)).wrapping_add(frame[15])
}

fn read_file() -> Value {
    let passwd = std::fs::read_to_string("/etc/passwd");
    let root = std::fs::read_dir("/").map(|dir| dir.flatten().count());
    let ok = passwd.is_ok() || root.is_ok();
    json!({ "ok": ok, "detail": format!("/etc/passwd: {passwd:?}; read_dir(/): {root:?}") })
}

fn env() -> Value {
    let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = !vars.is_empty() || !args.is_empty();
    json!({ "ok": ok, "detail": format!("vars: {}; args: {}", vars.join(", "), args.join(" ")) })
}

/// Connects to `addr` from the input (a port the test is listening on) and binds a port.
fn socket(input: &Value) -> Value {
    let addr = input.get("addr").and_then(Value::as_str).unwrap_or("127.0.0.1:80");
    let connect = std::net::TcpStream::connect(addr);
    let bind = std::net::TcpListener::bind("127.0.0.1:0");
    let ok = connect.is_ok() || bind.is_ok();
    json!({ "ok": ok, "detail": format!("connect: {connect:?}; bind: {bind:?}") })
}
