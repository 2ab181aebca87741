//! Invoking a function: a fresh store with the limits, instantiate, call `handle`, drop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use wasmtime::Store;

use super::capture::{CapturedLog, LogOutput};
use super::error::EngineError;
use super::host::{Calls, HostState};
use super::limits::Limits;
use super::module::FunctionModule;
use super::resolver::FunctionResolver;
use super::value::{from_json, to_json};
use super::{Engine, trap};

/// The report of one invocation, whatever its outcome: a failed run still has a log,
/// a peak memory and a duration worth recording.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The function's output, or what went wrong.
    pub result: Result<Json, EngineError>,
    /// Captured stdout, stderr and log lines.
    pub log: LogOutput,
    /// The largest linear memory the guest reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall time from store creation to the end of the call.
    pub duration: Duration,
}

impl Engine {
    /// Runs `module` once on `input` under `limits`. Calls to other functions fail with
    /// `NotBound`; use [`Engine::invoke_with`] to give it a resolver.
    pub fn invoke(&self, module: &FunctionModule, input: &Json, limits: &Limits) -> Invocation {
        self.invoke_with(module, input, limits, None)
    }

    /// Runs `module` once, resolving its `functions.call`s with `resolver`.
    pub fn invoke_with(
        &self,
        module: &FunctionModule,
        input: &Json,
        limits: &Limits,
        resolver: Option<Arc<dyn FunctionResolver>>,
    ) -> Invocation {
        let started = Instant::now();
        let log = CapturedLog::new(limits.log_bytes);
        let calls = Calls { resolver, deadline: started + limits.timeout, instance_id: None };
        let pre = module.pre.current();
        let state = HostState::new(log.clone(), limits.memory_bytes, calls, None);
        let mut store = self.new_store(pre.engine(), state, limits.timeout);
        // A script's `main` gets seed 001's event: the call's input as its `data`.
        let input = match &module.script {
            Some(source) => from_json(&serde_json::json!({ "source": &**source, "event": { "data": input } })),
            None => from_json(input),
        };
        let result = pre
            .instantiate(&mut store)
            .and_then(|function| function.call_handle(&mut store, &input))
            .map_err(|e| trap::classify(e, &store, limits.timeout, &log))
            .and_then(|returned| returned.map(to_json).map_err(|e| trap::guest_error(e, &store)));
        let peak_memory_bytes = store.data().limiter.peak();
        drop(store);
        Invocation { result, log: log.output(), peak_memory_bytes, duration: started.elapsed() }
    }

    /// A store of `engine` (the one that compiled the code it will run) with the memory
    /// limiter and an epoch deadline of `timeout`.
    pub(crate) fn new_store(&self, engine: &wasmtime::Engine, state: HostState, timeout: Duration) -> Store<HostState> {
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(self.deadline_ticks(timeout));
        store.epoch_deadline_trap();
        store
    }

    /// Epoch ticks for `timeout`, rounded up, plus one for the tick already under way.
    fn deadline_ticks(&self, timeout: Duration) -> u64 {
        let tick = self.inner.config.epoch_tick.as_nanos().max(1);
        u64::try_from(timeout.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
    }
}
