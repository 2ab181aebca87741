//! The host side of the guest ABI: the per-invocation state a store carries, and one
//! file per imported interface, each with its own view of that state and its own
//! `add_to_linker` (as wasmtime's `crates/wasi-config` does): an interface sees only the
//! part it works on.

mod functions;
mod log;
mod state_machine;
mod vars;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::WitError;
use super::bindings::bin::cloudexec::runtime as wit;
use super::capture::CapturedLog;
use super::error::EngineError;
use super::instance::InstanceState;
use super::limits::MemoryLimiter;
use super::manifest::Manifest;
use super::resolver::FunctionResolver;

/// What a guest may call out to, and under which deadline.
#[derive(Clone)]
pub(crate) struct Calls {
    pub(crate) resolver: Option<Arc<dyn FunctionResolver>>,
    pub(crate) deadline: Instant,
    pub(crate) instance_id: Option<String>,
}

/// The bin-only part of a store: the instance being run, changed in place and
/// committed by the caller only if the run ends without a trap.
pub(crate) struct BinContext {
    pub(crate) state: InstanceState,
    pub(crate) manifest: Arc<Manifest>,
    /// Variables fetched from the engine layer during this run (`vars.fetch`): reused by
    /// later reads of the run, never committed to the instance.
    pub(crate) fetched: std::collections::BTreeMap<String, crate::value::TypedValue>,
}

/// Everything one store holds for one invocation.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) log: CapturedLog,
    pub(crate) calls: Calls,
    pub(crate) bin: Option<BinContext>,
}

impl HostState {
    /// A sandbox with no files, no environment, no arguments and no network: WASI's
    /// defaults deny sockets and name lookups; stdout and stderr go to the captured log.
    pub(crate) fn new(log: CapturedLog, memory_cap: u64, calls: Calls, bin: Option<BinContext>) -> Self {
        let wasi = WasiCtxBuilder::new().stdout(log.clone()).stderr(log.clone()).build();
        Self { wasi, table: ResourceTable::new(), limiter: MemoryLimiter::new(memory_cap), log, calls, bin }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// One linker with WASI and every cloudexec interface, shared by both worlds: a
/// function that imports `vars` links, and gets an error value when it calls it.
pub(crate) fn linker(engine: &wasmtime::Engine) -> Result<Linker<HostState>, EngineError> {
    let mut linker = Linker::new(engine);
    let setup = |linker: &mut Linker<HostState>| -> wasmtime::Result<()> {
        wasmtime_wasi::p2::add_to_linker_sync(linker)?;
        log::add_to_linker(linker)?;
        vars::add_to_linker(linker)?;
        functions::add_to_linker(linker)?;
        state_machine::add_to_linker(linker)?;
        Ok(())
    };
    setup(&mut linker).map_err(|e| EngineError::Internal(format!("linking host interfaces: {e:#}")))?;
    Ok(linker)
}

/// What `vars` and `state-machine` see of a store: the bin's context, if it is a bin's.
pub(crate) struct BinView<'a>(Option<&'a mut BinContext>);

struct HasBin;

impl HasData for HasBin {
    type Data<'a> = BinView<'a>;
}

/// The error a function gets when it calls a bin-only import.
fn bins_only(what: &str) -> WitError {
    WitError { code: "NotAvailable".into(), message: format!("{what} exist only in bins, not in functions") }
}
