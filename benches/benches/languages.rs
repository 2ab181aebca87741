//! `hello` in Rust, Python and JavaScript (componentize-py, componentize-js), and seed
//! 001's JavaScript source on the boa runtime, through cloudexec's engine in process:
//! compile time of a fresh component, the first call, then per-call latency (p50, p99),
//! calls per second on one thread and peak guest memory per call. Not criterion: the
//! issue asks for percentiles. See BENCHMARKS.md ("Guest languages").
//!
//! cargo bench -p cloudexec-benches --bench languages
//!
//! `TIERED=1` turns tiered compilation on (as the server has it): large components are
//! measured on Winch's code first, then again once Cranelift's is swapped in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudexec::authoring::Project;
use cloudexec::authoring::build::{BuildOptions, build};
use cloudexec::engine::{DEFAULT_BASELINE_TIER_MIN_BYTES, Engine, EngineConfig, FunctionModule, Limits, Tier};
use serde_json::json;

/// Calls measured per guest (after the warm-up); `CALLS=n` changes it.
const CALLS: usize = 2000;

fn calls() -> usize {
    std::env::var("CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(CALLS)
}

/// Seed 001's own example `function_code`.
const SEED_001_SOURCE: &str =
    "exports.main = function functionName(event, callback) {\n callback(null, \"hello world\")\n}";

fn built(lang: &str, options: BuildOptions) -> Vec<u8> {
    let dir = cloudexec_tests::repo_root().join("examples").join(lang).join("hello");
    let project = Project::load(&dir).expect("the example project loads");
    let wasm = build(&project, &BuildOptions { quiet: true, ..options }).expect("the example builds");
    std::fs::read(wasm).expect("the component was written")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn tier(module: &FunctionModule) -> &'static str {
    module.tier().as_str()
}

/// Waits until the background compile has swapped optimized code in; how long it took.
fn wait_optimized(module: &FunctionModule) -> Duration {
    let started = Instant::now();
    while module.tier() != Tier::Optimized && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

fn measure(name: &str, bytes: usize, compile: Duration, engine: &Engine, module: &Arc<FunctionModule>) {
    let input = json!({"name": "Ada"});
    let limits = Limits::default();
    let first = Instant::now();
    let out = engine.invoke(module, &input, &limits);
    let first = first.elapsed();
    assert!(out.result.is_ok(), "{name}: {:?}", out.result);
    for _ in 0..100 {
        engine.invoke(module, &input, &limits);
    }
    let calls = calls();
    let mut times = Vec::with_capacity(calls);
    let mut peak = 0;
    let started = Instant::now();
    for _ in 0..calls {
        let call = Instant::now();
        let out = engine.invoke(module, &input, &limits);
        times.push(call.elapsed());
        peak = peak.max(out.peak_memory_bytes);
    }
    let total = started.elapsed();
    times.sort();
    println!(
        "{name:<22} {:<9} {:>6.1} MB  compile {:>7.2} s  first call {:>7.2} ms  p50 {:>8.1} µs  p99 {:>8.1} µs  {:>7.0} calls/s  peak {:>5.1} MiB  output {}",
        tier(module),
        bytes as f64 / 1e6,
        compile.as_secs_f64(),
        first.as_secs_f64() * 1e3,
        percentile(&times, 0.50).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        calls as f64 / total.as_secs_f64(),
        peak as f64 / (1 << 20) as f64,
        out.result.map(|o| o.to_string()).unwrap_or_default(),
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benchmarks; this one has no criterion names
    }
    let componentize_py = cloudexec_tests::language_tool("python-tools.sh").expect("componentize-py installs");
    let js_tools = cloudexec_tests::language_tool("js-tools.sh").expect("the JavaScript tools install");
    let guests = [
        ("rust hello", cloudexec_tests::guest_bytes("hello").expect("hello builds")),
        (
            "python hello",
            built("python", BuildOptions { componentize_py: Some(componentize_py), ..Default::default() }),
        ),
        ("js hello (componentize-js)", built("js", BuildOptions { js_tools: Some(js_tools), ..Default::default() })),
    ];
    // No cache dir: every component is compiled here, as a fresh upload is.
    let tiered = std::env::var_os("TIERED").is_some();
    let config = EngineConfig {
        baseline_tier_min_bytes: tiered.then_some(DEFAULT_BASELINE_TIER_MIN_BYTES),
        ..EngineConfig::default()
    };
    let engine = Engine::new(config).expect("engine starts");
    // `ONLY=python` measures only the guests whose name contains it (e.g. for a profile).
    let only = std::env::var("ONLY").unwrap_or_default();
    for (name, bytes) in guests.iter().filter(|(name, _)| name.contains(only.as_str())) {
        let compile = Instant::now();
        let module = engine.load_function(bytes).expect("the component loads");
        measure(name, bytes.len(), compile.elapsed(), &engine, &module);
        if module.tier() == Tier::Baseline {
            let waited = wait_optimized(&module);
            measure(name, bytes.len(), waited, &engine, &module);
        }
    }
    if !"seed 001 source (boa)".contains(only.as_str()) {
        return;
    }
    let runtime_bytes = cloudexec_tests::guest_bytes("js-runtime").expect("the JavaScript runtime builds");
    let compile = Instant::now();
    let runtime = engine.load_function(&runtime_bytes).expect("the runtime loads");
    let script = engine.load_script(&runtime, SEED_001_SOURCE);
    measure("seed 001 source (boa)", runtime_bytes.len(), compile.elapsed(), &engine, &script);
}
