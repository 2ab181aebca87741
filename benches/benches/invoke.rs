//! One invocation of the `hello` example (fresh store, instantiate, call, drop) through
//! cloudexec's engine, against bare wasmtime doing the same with the same component
//! and the same pooling allocator, in the same run. See BENCHMARKS.md.

use std::time::Duration;

use cloudexec::engine::{Engine, EngineConfig, Limits};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod bare {
    wasmtime::component::bindgen!({ path: "../guest-sdk/wit", world: "cloudexec:runtime/function" });
}
use bare::cloudexec::runtime as wit;

/// The least a host must do to run the component: WASI plus the imports it links.
struct BareState {
    wasi: WasiCtx,
    table: ResourceTable,
    log: Vec<u8>,
}

impl WasiView for BareState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit::types::Host for BareState {}

impl wit::log::Host for BareState {
    fn write(&mut self, _level: wit::log::Level, message: String) {
        self.log.extend_from_slice(message.as_bytes());
    }
}

impl wit::vars::Host for BareState {
    fn get(&mut self, _key: String) -> Option<wit::types::TypedValue> {
        None
    }
    fn fetch(&mut self, _key: String) -> Result<Option<wit::types::TypedValue>, wit::types::Error> {
        Ok(None)
    }
    fn set(&mut self, _key: String, _value: wit::types::Value) -> Result<(), wit::types::Error> {
        Ok(())
    }
    fn set_typed(&mut self, _key: String, _value: wit::types::TypedValue) -> Result<(), wit::types::Error> {
        Ok(())
    }
    fn list(&mut self) -> Vec<wit::types::Variable> {
        Vec::new()
    }
}

impl wit::functions::Host for BareState {
    fn call(&mut self, _key: String, _params: Vec<wit::types::Value>) -> Result<wit::types::Value, wit::types::Error> {
        Err(wit::types::Error { code: "NotBound".into(), message: String::new() })
    }
}

impl wit::state_machine::Host for BareState {
    fn transition(&mut self, _machine: u32, _state: String) -> Result<(), wit::types::Error> {
        Ok(())
    }
    fn current(&mut self, _machine: u32) -> Option<String> {
        None
    }
}

fn bare_wasmtime(bytes: &[u8]) -> wasmtime::Result<(wasmtime::Engine, bare::FunctionPre<BareState>)> {
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(PoolingAllocationConfig::new()));
    let engine = wasmtime::Engine::new(&config)?;
    let component = Component::new(&engine, bytes)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    bare::Function::add_to_linker::<_, HasSelf<BareState>>(&mut linker, |s| s)?;
    let pre = bare::FunctionPre::new(linker.instantiate_pre(&component)?)?;
    Ok((engine, pre))
}

fn invoke_hello(c: &mut Criterion) {
    let bytes = cloudexec_tests::guest_bytes("hello").expect("hello builds");
    let input = json!({"name": "Ada"});

    let engine = Engine::new(EngineConfig::default()).expect("engine starts");
    assert!(engine.uses_pooling(), "benchmark the pooling allocator");
    let module = engine.load_function(&bytes).expect("hello loads");
    let limits = Limits::default();

    let (bare_engine, bare_pre) = bare_wasmtime(&bytes).expect("bare wasmtime loads hello");
    let bare_input = bare::cloudexec::runtime::types::Value::Json(input.to_string());

    let mut group = c.benchmark_group("invoke_hello");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("cloudexec", |b| {
        b.iter(|| {
            let out = engine.invoke(&module, &input, &limits);
            assert!(out.result.is_ok());
        })
    });
    group.bench_function("bare_wasmtime", |b| {
        b.iter(|| {
            let state = BareState { wasi: WasiCtx::builder().build(), table: ResourceTable::new(), log: Vec::new() };
            let mut store = Store::new(&bare_engine, state);
            let function = bare_pre.instantiate(&mut store).expect("instantiates");
            let out = function.call_handle(&mut store, &bare_input).expect("runs");
            assert!(out.is_ok());
        })
    });
    group.finish();
}

criterion_group!(benches, invoke_hello);
criterion_main!(benches);
