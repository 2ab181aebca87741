//! The wasm engine: one `wasmtime::Engine` (pooling allocator, copy-on-write memory
//! init, epoch interruption), compiled modules cached on disk and kept in memory as
//! pre-instantiated components, and a fresh sandboxed store for every invocation.
//!
//! A crate of its own (no HTTP, no store), so Cargo keeps the layers apart, and so a
//! function author's dev-dependency on the test harness ([`testing`]) does not pull in
//! the server and SQLite. The server crate re-exports it as `cloudexec::engine` and the
//! harness as `cloudexec::testing`.

mod bindings;
mod capture;
mod compile;
mod config;
mod error;
mod host;
mod instance;
mod invoke;
mod limits;
mod manifest;
mod module;
mod resolver;
mod run_bin;
mod ticker;
mod trap;
pub mod value;

pub mod clock;
pub mod local;
pub mod testing;
pub mod updates;

use std::sync::Arc;

use dashmap::DashMap;
use wasmtime::component::Linker;

pub use capture::LogOutput;
pub use compile::module_hash;
pub use config::{Allocator, EngineConfig};
pub use error::EngineError;
pub use instance::{InstanceState, MAX_VARIABLES, MachineState, PathEntry};
pub use invoke::Invocation;
pub use limits::{
    ASYNC_TIMEOUT, DEFAULT_LOG_BYTES, FREE_PLAN_MEMORY, Limits, PERSONAL_PLAN_MEMORY, Plan, SYNC_TIMEOUT,
};
pub use manifest::{FunctionDecl, Manifest, StateMachineDecl, TransitionDecl};
pub use module::{BinModule, FunctionModule};
pub use resolver::{CallError, FunctionCall, FunctionResolver, VarFetch};
pub use run_bin::{BinRun, RunOptions};
pub use value::{TypedValue, check_typed};

use compile::Compiler;
use host::HostState;
use ticker::EpochTicker;

/// The engine every invocation runs on. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    wasmtime: wasmtime::Engine,
    linker: Linker<HostState>,
    compiler: Compiler,
    functions: DashMap<String, Arc<FunctionModule>>,
    bins: DashMap<String, Arc<BinModule>>,
    config: EngineConfig,
    pooling: bool,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("pooling", &self.inner.pooling).field("config", &self.inner.config).finish()
    }
}

impl Engine {
    /// Builds the engine, trying the pooling allocator first unless told otherwise.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let (wasmtime, pooling) = build_wasmtime(&config)?;
        let linker = host::linker(&wasmtime)?;
        let compiler = Compiler::new(wasmtime.clone(), config.cache_dir.clone(), config.max_module_bytes)?;
        let ticker = EpochTicker::start(wasmtime.clone(), config.epoch_tick)
            .map_err(|e| EngineError::Internal(format!("cannot start the epoch ticker: {e}")))?;
        let inner = Inner {
            wasmtime,
            linker,
            compiler,
            functions: DashMap::new(),
            bins: DashMap::new(),
            config,
            pooling,
            _ticker: ticker,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Whether the pooling allocator is in use (false after a fallback to on-demand).
    pub fn uses_pooling(&self) -> bool {
        self.inner.pooling
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The underlying wasmtime engine, for benchmarks that compare against it.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.inner.wasmtime
    }
}

fn build_wasmtime(config: &EngineConfig) -> Result<(wasmtime::Engine, bool), EngineError> {
    let internal = |e: wasmtime::Error| EngineError::Internal(format!("cannot create the wasm engine: {e:#}"));
    match config.allocator {
        Allocator::OnDemand => Ok((wasmtime::Engine::new(&config.wasmtime_config(false)).map_err(internal)?, false)),
        Allocator::Pooling => Ok((wasmtime::Engine::new(&config.wasmtime_config(true)).map_err(internal)?, true)),
        Allocator::Auto => match wasmtime::Engine::new(&config.wasmtime_config(true)) {
            Ok(engine) => Ok((engine, true)),
            Err(e) => {
                tracing::warn!(error = %e, "pooling allocator unavailable, falling back to on-demand allocation");
                Ok((wasmtime::Engine::new(&config.wasmtime_config(false)).map_err(internal)?, false))
            }
        },
    }
}
