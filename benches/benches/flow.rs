//! Flow scheduling cost, in process, persistence on (a real SQLite file):
//!
//! - `invoke (job record)`: one sync invocation of `flow-start-node` with its job record,
//!   the work a flow step cannot avoid;
//! - `guest call (bare)`: the same guest instantiated and called on the bench thread, no
//!   slot, no thread hop, no store: the floor under everything;
//! - `flow 3 steps` / `flow 10 steps`: a sequential flow of that function, started and
//!   awaited through the flows service (every transition stored before its end is seen);
//! - `scheduler step (pure)`: one `TaskSucceeded` event through the scheduler plus the
//!   state serialized to JSON, no I/O.
//!
//! Per step = (flow-10 − flow-3) / 7; its overhead is per step − invoke time (and, the
//! stricter figure, per step − bare guest call). Then interleaved rounds (a block of
//! invokes, of bare calls, of 3-step and of 10-step flows each) give p50/p99 of each and
//! the per-step figures from those medians. See BENCHMARKS.md.

use std::time::{Duration, Instant};

use cloudexec::engine::{Engine, EngineConfig, Limits};
use cloudexec::flows::definition::parse;
use cloudexec::flows::scheduler::{Event, ExecState, step};
use cloudexec::flows::service::{NewFlow, StartExecution};
use cloudexec::functions::CreateFunction;
use cloudexec::server::{Server, ServerConfig};
use criterion::Criterion;
use serde_json::json;

/// Rounds of the interleaved timing that gives the percentiles.
const TIMED_ROUNDS: usize = 30;
/// Runs of each kind counted per round.
const BLOCK: usize = 50;
/// Runs of each kind not counted at the start of a block.
const WARM_UP: usize = 5;

/// How long `f` takes.
fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// A DAG of `steps` `flow-start-node` tasks, each adding 1 to `acc`.
fn chain(steps: usize) -> String {
    let mut yaml = format!("version: 1\nworkspace: bench\ndagName: chain{steps}\ntype: flow\ntasks:\n");
    for i in 0..steps {
        let next = if i + 1 < steps { format!("    next: s{}\n", i + 1) } else { String::new() };
        yaml.push_str(&format!(
            "  - category: function\n    name: s{i}\n    resourceName: function://flow-start-node\n    pattern: task_sync\n{next}    \
             inputMappings:\n      - {{target: $.input.left, source: $.context.acc}}\n      - {{target: $.input.right, source: 1}}\n    \
             outputMappings:\n      - {{target: $.context.acc, source: $.output.result_number}}\n"
        ));
    }
    yaml
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut config = ServerConfig::new(dir.path());
    config.engine = EngineConfig {
        cache_dir: Some(cloudexec_tests::repo_root().join("target/bench-module-cache")),
        ..EngineConfig::default()
    };
    let server = rt.block_on(Server::open(config)).expect("the server opens");
    let state = server.state().clone();
    let app = server.bootstrap.app_key;
    let guest = cloudexec_tests::guest_bytes("flow-start-node").expect("the guest builds");
    let wasm = guest.clone();
    rt.block_on(
        state.functions.create(app, CreateFunction { name: "flow-start-node".into(), wasm, ..Default::default() }),
    )
    .expect("function created");
    for steps in [3, 10] {
        let flow =
            NewFlow { name: Some(format!("chain{steps}")), definition: chain(steps), description: String::new() };
        rt.block_on(state.flows.create(app, flow)).expect("flow created");
    }
    let run = |steps: usize| {
        let req = StartExecution { input: json!({ "acc": 0 }), ..StartExecution::default() };
        let detail = rt
            .block_on(state.flows.run_sync(app, &format!("chain{steps}"), req, Duration::from_secs(30)))
            .expect("ran");
        assert_eq!(detail.record.status.as_str(), "Succeeded", "{:?}", detail.record);
        detail.record
    };
    let mut c = Criterion::default().configure_from_args().warm_up_time(Duration::from_secs(2));
    let mut group = c.benchmark_group("flow");
    group.bench_function("invoke (job record)", |b| {
        b.iter(|| {
            rt.block_on(state.jobs.invoke_sync(app, "flow-start-node", json!({"left": 1, "right": 2}), "bench"))
                .expect("ran")
        })
    });
    // The same guest called on this thread: no scheduling, no thread hop, no store.
    let engine = Engine::new(EngineConfig::default()).expect("an engine");
    let module = engine.load_function(&guest).expect("the guest loads");
    group.bench_function("guest call (bare)", |b| {
        b.iter(|| engine.invoke(&module, &json!({"left": 1, "right": 2}), &Limits::default()))
    });
    group.bench_function("flow 3 steps", |b| b.iter(|| run(3)));
    group.bench_function("flow 10 steps", |b| b.iter(|| run(10)));
    let graph = parse(&chain(10)).expect("parses");
    let mut started = ExecState::new(json!({ "acc": 0 }), 16);
    step(&graph, &mut started, Event::Start, 0);
    started.drain_history();
    group.bench_function("scheduler step (pure)", |b| {
        b.iter(|| {
            let mut state = started.clone();
            let event = Event::TaskSucceeded { key: "s0".into(), attempt: 1, output: json!({ "result_number": 1 }) };
            let actions = step(&graph, &mut state, event, 1);
            (actions, serde_json::to_value(&state).expect("serializes"))
        })
    });
    group.finish();
    c.final_summary();

    // Interleaved rounds of blocks, one block of each kind per round, so a noisy
    // neighbour slows all alike; the first runs of a block (cold threads and caches
    // after the switch) are not counted.
    let invoke = || {
        rt.block_on(state.jobs.invoke_sync(app, "flow-start-node", json!({"left": 1, "right": 2}), "bench"))
            .expect("ran")
    };
    let bare = || engine.invoke(&module, &json!({"left": 1, "right": 2}), &Limits::default());
    let mut samples = [const { Vec::new() }; 4];
    let block = |f: &dyn Fn(), into: &mut Vec<Duration>| {
        for i in 0..BLOCK + WARM_UP {
            let time = timed(f);
            if i >= WARM_UP {
                into.push(time);
            }
        }
    };
    for _ in 0..TIMED_ROUNDS {
        block(&|| drop(invoke()), &mut samples[0]);
        block(&|| drop(bare()), &mut samples[1]);
        block(&|| drop(run(3)), &mut samples[2]);
        block(&|| drop(run(10)), &mut samples[3]);
    }
    let [invoke, bare, three, ten] = samples.map(|mut times| {
        times.sort();
        (times[times.len() / 2], times[times.len() * 99 / 100])
    });
    println!("over {TIMED_ROUNDS} interleaved rounds of {BLOCK} runs of each, p50 (p99):");
    for (name, (p50, p99)) in [("invoke", invoke), ("bare guest call", bare), ("3 steps", three), ("10 steps", ten)] {
        println!("  {name:<16} {p50:>10.1?} ({p99:.1?})");
    }
    let per_step = (ten.0.saturating_sub(three.0)) / 7;
    println!(
        "  per step {per_step:.1?}: overhead vs invoke {:.1?} µs, vs bare guest call {:.1?} µs",
        per_step.as_secs_f64() * 1e6 - invoke.0.as_secs_f64() * 1e6,
        per_step.as_secs_f64() * 1e6 - bare.0.as_secs_f64() * 1e6
    );
    let _ =
        rt.block_on(server.serve(rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a port"), async {}));
}
