//! One run of a bin instance, in process, no server: apply one variable update,
//! instantiate the pre-instantiated `hostile-bin`, call `run` (`{"incr": 1}`: read
//! `counter`, write `counter + 1`), produce the new state; measured alone ("run only")
//! and followed by the SQLite commit the server does ("run + commit": the state
//! serialized to JSON and `commit_run` through the group-commit writer). Criterion gives
//! per-iteration estimates; a separate loop of individually timed runs prints p50/p99;
//! and 10,000 idle instances are written through `SqliteStore::create_instance` while the
//! process's RSS and the database size are read. See BENCHMARKS.md.

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use cloudexec::bins::parse_updates;
use cloudexec::engine::{BinModule, Engine, EngineConfig, InstanceState, Limits, RunOptions, module_hash};
use cloudexec::store::sqlite::SqliteStore;
use cloudexec::store::{BinRecord, InstanceRecord, InstanceStatus, Store};
use cloudexec::time::now_us;
use criterion::Criterion;
use serde_json::{Value as Json, json};

/// Runs timed one by one for the percentiles.
const TIMED_RUNS: usize = 10_000;
/// Runs before timing starts.
const WARM_UP_RUNS: usize = 1_000;
/// Idle instances written for the memory figure.
const IDLE_INSTANCES: usize = 10_000;

/// Wakes the blocked thread; the store's futures only wait on its writer thread, so no
/// async runtime is needed to drive them.
#[derive(Debug)]
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        thread::park();
    }
}

/// A store on a fresh file with app 1 and `bytes` uploaded as a bin.
fn store_with_bin(path: &Path, bytes: &[u8], bin: &BinModule) -> (SqliteStore, BinRecord) {
    let store = SqliteStore::open(path).expect("the store opens");
    let app = block_on(store.create_app("bench")).expect("app created");
    let sha = module_hash(bytes);
    block_on(store.put_module(&sha, bytes.to_vec())).expect("module stored");
    let record = BinRecord {
        id: format!("bin-{sha}"),
        app_key: app.app_key,
        module_sha256: sha,
        manifest: bin.manifest.as_ref().clone(),
        created_at: now_us(),
    };
    block_on(store.create_bin(record.clone())).expect("bin stored");
    (store, record)
}

/// A new instance record of `bin` holding `state`, as `POST /v1/instances` writes it.
fn instance(id: String, bin: &BinRecord, state: InstanceState) -> InstanceRecord {
    let now = now_us();
    InstanceRecord {
        id,
        app_key: bin.app_key,
        bin_id: bin.id.clone(),
        status: InstanceStatus::Created,
        state,
        runs: 0,
        last_error: None,
        service: None,
        created_at: now,
        updated_at: now,
    }
}

/// The engine, the loaded `hostile-bin`, and a store holding one instance of it.
struct Fixture {
    engine: Engine,
    bin: Arc<BinModule>,
    limits: Limits,
    update: Json,
    store: SqliteStore,
    record: InstanceRecord,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let bytes = cloudexec_tests::guest_bytes("hostile-bin").expect("hostile-bin builds");
        let engine = Engine::new(EngineConfig::default()).expect("engine starts");
        assert!(engine.uses_pooling(), "benchmark the pooling allocator");
        let bin = engine.load_bin(&bytes).expect("hostile-bin loads");
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, bin_record) = store_with_bin(&dir.path().join("runs.db"), &bytes, &bin);
        let record = instance("bench-instance".into(), &bin_record, InstanceState::new(&bin.manifest));
        block_on(store.create_instance(record.clone())).expect("instance stored");
        Self { engine, bin, limits: Limits::default(), update: json!({"incr": 1}), store, record, _dir: dir }
    }

    /// One run on `state`: the update parsed and applied, instantiate, `run`, new state.
    fn run(&self, state: &InstanceState) -> InstanceState {
        let updates = parse_updates(&self.update).expect("valid updates");
        let run = self.engine.run_bin(&self.bin, state, updates, RunOptions::default(), &self.limits);
        assert!(run.result.is_ok(), "{:?}", run.result);
        run.state.expect("a returned run has a state")
    }

    /// One run of the stored instance, committed as the server commits it.
    fn run_and_commit(&self, record: &mut InstanceRecord) {
        record.state = self.run(&record.state);
        record.status = InstanceStatus::Idle;
        assert!(block_on(self.store.commit_run(record.clone(), Vec::new())).expect("commit"), "no other run commits");
        record.runs += 1;
    }
}

fn bin_run(c: &mut Criterion, fixture: &Fixture) {
    let mut group = c.benchmark_group("bin_run");
    group.measurement_time(Duration::from_secs(10));
    let mut state = InstanceState::new(&fixture.bin.manifest);
    group.bench_function("run_only", |b| b.iter(|| state = fixture.run(&state)));
    let mut record = fixture.record.clone();
    group.bench_function("run_commit", |b| b.iter(|| fixture.run_and_commit(&mut record)));
    group.finish();
}

/// p50, p99 and max of `samples`, sorted here.
fn percentiles(samples: &mut [Duration]) -> String {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    format!("p50 {:6.1} µs   p99 {:6.1} µs   max {:8.1} µs", us(at(0.5)), us(at(0.99)), us(at(1.0)))
}

fn print_percentiles(fixture: &Fixture) {
    let mut state = InstanceState::new(&fixture.bin.manifest);
    for _ in 0..WARM_UP_RUNS {
        state = fixture.run(&state);
    }
    let mut samples = Vec::with_capacity(TIMED_RUNS);
    for _ in 0..TIMED_RUNS {
        let started = Instant::now();
        state = fixture.run(&state);
        samples.push(started.elapsed());
    }
    println!(
        "bin_run: {TIMED_RUNS} runs of hostile-bin {{\"incr\": 1}}, each timed (after {WARM_UP_RUNS} warm-up runs):"
    );
    println!("  run only       {}", percentiles(&mut samples));

    let mut record = InstanceRecord { id: "timed-instance".into(), ..fixture.record.clone() };
    block_on(fixture.store.create_instance(record.clone())).expect("instance stored");
    for _ in 0..WARM_UP_RUNS {
        fixture.run_and_commit(&mut record);
    }
    samples.clear();
    for _ in 0..TIMED_RUNS {
        let started = Instant::now();
        fixture.run_and_commit(&mut record);
        samples.push(started.elapsed());
    }
    println!("  run + commit   {}", percentiles(&mut samples));
    assert_eq!(record.state.variables["counter"].data, json!(record.runs), "every run counted once");
}

/// The process's resident set, in bytes, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).expect("VmRSS line");
    line.trim().trim_end_matches("kB").trim().parse::<u64>().expect("VmRSS in kB") * 1024
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// 10,000 instances of `shop`, each holding the state of an order walked to `paid`
/// (7 variables, a 3-step path), written through the store; RSS and file sizes around it.
fn idle_instances(engine: &Engine) {
    let shop = cloudexec_tests::guest("shop").expect("shop builds");
    let bytes = std::fs::read(&shop).expect("shop.wasm");
    let bin = engine.load_bin(&bytes).expect("shop loads");
    let runtime = cloudexec::testing::TestRuntime::with_engine(engine.clone());
    let mut walked = runtime.bin(&shop).expect("shop loads").instance();
    walked.stub("utcook.jar:com.ut.BuzMethod.shoppingCart", |_| Ok(json!(true)));
    walked.stub("utcook.jar:com.ut.BuzMethod.order", |_| Ok(json!("order-0001")));
    walked.stub("utcook.jar:com.ut.BuzMethod.payOrder", |_| Ok(json!(true)));
    for updates in [json!({"item": "apple"}), json!({"amount": 2.5}), json!({"pay": true})] {
        assert!(walked.run(updates).expect("valid updates").result.is_ok());
    }
    assert_eq!(walked.current(1), Some("paid"));
    let state = walked.state().clone();
    let state_json = serde_json::to_string(&state).expect("state serializes").len();
    let fresh_json = serde_json::to_string(&InstanceState::new(&bin.manifest)).expect("state serializes").len();

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("idle.db");
    let (store, bin_record) = store_with_bin(&path, &bytes, &bin);
    let before = rss_bytes();
    let started = Instant::now();
    for i in 0..IDLE_INSTANCES {
        let id = format!("{i:08x}-0000-4000-8000-000000000000");
        block_on(store.create_instance(instance(id, &bin_record, state.clone()))).expect("instance stored");
    }
    let took = started.elapsed();
    let after = rss_bytes();
    let wal = path.with_file_name("idle.db-wal");
    let (db, wal) = (file_size(&path), file_size(&wal));
    println!(
        "idle instances: {IDLE_INSTANCES} shop instances (state walked to paid: {state_json} bytes of JSON; a fresh one is {fresh_json}) created in {:.2} s",
        took.as_secs_f64()
    );
    println!(
        "  RSS {:.1} MiB before, {:.1} MiB after: +{:.1} MiB ({:.0} bytes per instance)",
        mib(before),
        mib(after),
        mib(after.saturating_sub(before)),
        after.saturating_sub(before) as f64 / IDLE_INSTANCES as f64
    );
    println!(
        "  database {:.1} MiB + WAL {:.1} MiB ({:.0} bytes per instance)",
        mib(db),
        mib(wal),
        (db + wal) as f64 / IDLE_INSTANCES as f64
    );
    store.close();
}

fn main() {
    // `cargo test --benches` and `--list` run nothing but criterion's own checks.
    let measuring = !std::env::args().any(|a| a == "--test" || a == "--list");
    let fixture = Fixture::new();
    if measuring {
        idle_instances(&fixture.engine);
    }
    let mut criterion = Criterion::default().configure_from_args();
    bin_run(&mut criterion, &fixture);
    criterion.final_summary();
    if measuring {
        print_percentiles(&fixture);
    }
}
