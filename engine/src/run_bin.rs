//! Running a bin: apply the run's variable updates to a copy of the instance, call
//! `run`, and hand back the changed copy to commit, or nothing if the guest trapped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::bindings::WitVariable;
use super::capture::{CapturedLog, LogOutput};
use super::error::EngineError;
use super::host::{BinContext, Calls, HostState};
use super::instance::InstanceState;
use super::limits::Limits;
use super::module::BinModule;
use super::resolver::FunctionResolver;
use super::value::{TypedValue, typed_to_wit};
use super::{Engine, trap};

/// Who a bin's function calls go to and which instance is running.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Resolves the bin's `functions.call`s; without one every call fails with `NotBound`.
    pub resolver: Option<Arc<dyn FunctionResolver>>,
    /// The instance's id, passed on to resolvers (seed 000 sends it to HTTP endpoints).
    pub instance_id: Option<String>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions").field("instance_id", &self.instance_id).finish_non_exhaustive()
    }
}

/// The report of one run of a bin.
#[derive(Debug, Clone)]
pub struct BinRun {
    /// `Ok` when `run` returned `Ok`; the guest's own error, or the trap/limit that stopped it.
    pub result: Result<(), EngineError>,
    /// The instance after the run, to commit: present when the guest returned (`Ok` or
    /// its own `Err`, the state the bin chose), absent when it trapped or hit a limit,
    /// in which case nothing of the run may be kept.
    pub state: Option<InstanceState>,
    /// Captured stdout, stderr and log lines, including one line per function call.
    pub log: LogOutput,
    /// The largest linear memory the guest reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Wall time of the run.
    pub duration: Duration,
}

impl Engine {
    /// Runs `bin` once on a copy of `state` with `updates` applied first.
    pub fn run_bin(
        &self,
        bin: &BinModule,
        state: &InstanceState,
        updates: Vec<(String, TypedValue)>,
        options: RunOptions,
        limits: &Limits,
    ) -> BinRun {
        let started = Instant::now();
        let mut state = state.clone();
        let wit_updates: Vec<WitVariable> =
            updates.iter().map(|(key, v)| WitVariable { key: key.clone(), value: typed_to_wit(v) }).collect();
        state.variables.extend(updates);
        let log = CapturedLog::new(limits.log_bytes);
        let calls =
            Calls { resolver: options.resolver, deadline: started + limits.timeout, instance_id: options.instance_id };
        let context = BinContext { state, manifest: bin.manifest.clone(), fetched: Default::default() };
        let host = HostState::new(log.clone(), limits.memory_bytes, calls, Some(context));
        let pre = bin.pre.current();
        let mut store = self.new_store(pre.engine(), host, limits.timeout);
        let outcome = pre
            .instantiate(&mut store)
            .and_then(|instance| instance.call_run(&mut store, &wit_updates))
            .map_err(|e| trap::classify(e, &store, limits.timeout, &log));
        let peak_memory_bytes = store.data().limiter.peak();
        let outcome = outcome.map(|returned| returned.map_err(|e| trap::guest_error(e, &store)));
        let finished = store.into_data().bin.map(|b| b.state);
        let (result, state) = match outcome {
            Ok(Ok(())) => (Ok(()), finished),
            // The guest's own error keeps the state it chose; one forced by the memory cap does not.
            Ok(Err(e @ EngineError::Guest { .. })) => (Err(e), finished),
            Ok(Err(e)) | Err(e) => (Err(e), None),
        };
        BinRun { result, state, log: log.output(), peak_memory_bytes, duration: started.elapsed() }
    }
}
