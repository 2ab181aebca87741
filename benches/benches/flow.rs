//! Flow scheduling cost, in process, persistence on (a real SQLite file):
//!
//! - `invoke (job record)`: one sync invocation of `flow-start-node` with its job record,
//!   the work a flow step cannot avoid;
//! - `flow 3 steps` / `flow 10 steps`: a sequential flow of that function, started and
//!   awaited through the flows service (every transition persisted before it is acted on);
//! - `scheduler step (pure)`: one `TaskSucceeded` event through the scheduler plus the
//!   state serialized to JSON, no I/O.
//!
//! Per-step overhead = flow-10 time / 10 − invoke time. A loop of individually timed
//! 3-step flows then prints p50/p99. See BENCHMARKS.md.

use std::time::{Duration, Instant};

use cloudexec::engine::EngineConfig;
use cloudexec::flows::definition::parse;
use cloudexec::flows::scheduler::{Event, ExecState, step};
use cloudexec::flows::service::{NewFlow, StartExecution};
use cloudexec::functions::CreateFunction;
use cloudexec::server::{Server, ServerConfig};
use criterion::Criterion;
use serde_json::json;

/// 3-step flows timed one by one for the percentiles.
const TIMED_RUNS: usize = 2_000;

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
    let wasm = cloudexec_tests::guest_bytes("flow-start-node").expect("the guest builds");
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
        let record = rt
            .block_on(state.flows.run_sync(app, &format!("chain{steps}"), req, Duration::from_secs(30)))
            .expect("ran");
        assert_eq!(record.status, "Succeeded", "{record:?}");
        record
    };
    let mut c = Criterion::default().configure_from_args().warm_up_time(Duration::from_secs(2));
    let mut group = c.benchmark_group("flow");
    group.bench_function("invoke (job record)", |b| {
        b.iter(|| {
            rt.block_on(state.jobs.invoke_sync(app, "flow-start-node", json!({"left": 1, "right": 2}), "bench"))
                .expect("ran")
        })
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

    let mut times: Vec<Duration> = (0..TIMED_RUNS)
        .map(|_| {
            let start = Instant::now();
            run(3);
            start.elapsed()
        })
        .collect();
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    println!("3-step flow end to end over {TIMED_RUNS} runs: p50 {:?}, p99 {:?}", pct(50), pct(99));
    let _ =
        rt.block_on(server.serve(rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("a port"), async {}));
}
