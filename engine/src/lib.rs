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
mod tiers;
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
pub use config::{Allocator, DEFAULT_BASELINE_TIER_MIN_BYTES, EngineConfig};
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
pub use tiers::Tier;
pub use value::{TypedValue, check_typed};

use compile::Compiler;
use host::HostState;
use ticker::EpochTicker;
use tiers::Optimizer;

/// The engine every invocation runs on. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    wasmtime: wasmtime::Engine,
    linker: Linker<HostState>,
    compiler: Compiler,
    /// Winch's engine, when tiered compilation is on.
    baseline: Option<Baseline>,
    functions: DashMap<String, Arc<FunctionModule>>,
    bins: DashMap<String, Arc<BinModule>>,
    config: EngineConfig,
    pooling: bool,
    _ticker: EpochTicker,
}

/// The baseline tier: Winch's engine, its linker and compiler, and the thread that
/// compiles the optimized code of what it loaded.
struct Baseline {
    min_bytes: usize,
    linker: Linker<HostState>,
    compiler: Compiler,
    optimizer: Optimizer,
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
        let baseline = config.baseline_tier_min_bytes.map(|min_bytes| Baseline::new(&config, min_bytes)).transpose()?;
        let mut ticked = vec![wasmtime.clone()];
        ticked.extend(baseline.as_ref().map(|b| b.linker.engine().clone()));
        let ticker = EpochTicker::start(ticked, config.epoch_tick)
            .map_err(|e| EngineError::Internal(format!("cannot start the epoch ticker: {e}")))?;
        let inner = Inner {
            wasmtime,
            linker,
            compiler,
            baseline,
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

impl Baseline {
    fn new(config: &EngineConfig, min_bytes: usize) -> Result<Self, EngineError> {
        let internal = |e: String| EngineError::Internal(format!("cannot create the baseline engine: {e}"));
        let engine = wasmtime::Engine::new(&config.baseline_config()).map_err(|e| internal(format!("{e:#}")))?;
        let linker = host::linker(&engine)?;
        // No artifact cache: Winch's code is only worth keeping until Cranelift's is ready,
        // and writing it would delay the first call.
        let compiler = Compiler::new(engine, None, config.max_module_bytes)?;
        let optimizer = Optimizer::start().map_err(|e| internal(e.to_string()))?;
        Ok(Self { min_bytes, linker, compiler, optimizer })
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
