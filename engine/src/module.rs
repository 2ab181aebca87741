//! Loaded modules: a compiled component checked against its world and kept
//! pre-instantiated, so an invocation only creates a store and instantiates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Component;

use super::bindings::bin::BinPre;
use super::bindings::function::FunctionPre;
use super::capture::CapturedLog;
use super::compile::module_hash;
use super::error::EngineError;
use super::host::{BinContext, Calls, HostState};
use super::instance::InstanceState;
use super::limits::FREE_PLAN_MEMORY;
use super::manifest::Manifest;
use super::tiers::{Tier, Tiered};
use super::{Engine, trap};

/// How long a bin's `manifest` export may run at upload.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Log cap while reading a manifest: only kept for error messages.
const MANIFEST_LOG_BYTES: usize = 16 * 1024;

/// A cloud function: a component of the `function` world, ready to instantiate.
pub struct FunctionModule {
    /// Shared with the script functions a language runtime runs, so they are promoted
    /// to optimized code with it.
    pub(crate) pre: Arc<Tiered<FunctionPre<HostState>>>,
    /// sha256 of the module's bytes (of the script, for a script function).
    pub sha256: String,
    /// Size of the module's bytes (of the script).
    pub size: usize,
    /// A script function's source: the component is a language runtime that is called
    /// with `{"source": <this>, "event": {"data": <the input>}}` (see [`Engine::load_script`]).
    pub script: Option<Arc<str>>,
}

/// A bin: a component of the `bin` world with its manifest, ready to instantiate.
pub struct BinModule {
    pub(crate) pre: Arc<Tiered<BinPre<HostState>>>,
    /// sha256 of the module's bytes.
    pub sha256: String,
    /// Size of the module's bytes.
    pub size: usize,
    /// What the bin declared about itself.
    pub manifest: Arc<Manifest>,
}

impl FunctionModule {
    /// Which compiler's code calls run now.
    pub fn tier(&self) -> Tier {
        self.pre.tier()
    }
}

impl BinModule {
    /// Which compiler's code runs now.
    pub fn tier(&self) -> Tier {
        self.pre.tier()
    }
}

impl std::fmt::Debug for FunctionModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionModule").field("sha256", &self.sha256).field("size", &self.size).finish()
    }
}

impl std::fmt::Debug for BinModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinModule").field("sha256", &self.sha256).field("manifest", &self.manifest).finish()
    }
}

impl Engine {
    /// Validates, compiles (or loads from the cache) and pre-instantiates a function.
    /// Identical bytes are compiled once per process and once per cache directory.
    pub fn load_function(&self, bytes: &[u8]) -> Result<Arc<FunctionModule>, EngineError> {
        let sha256 = module_hash(bytes);
        if let Some(module) = self.inner.functions.get(&sha256) {
            return Ok(module.clone());
        }
        let (pre, tier) = self.instance_pre(bytes, &sha256, "function")?;
        let pre = Arc::new(Tiered::new(FunctionPre::new(pre).map_err(|e| wrong_world("function", &e))?, tier));
        if tier == Tier::Baseline {
            self.optimize_later(bytes, &sha256, "function", &pre, FunctionPre::new);
        }
        let module = Arc::new(FunctionModule { pre, sha256: sha256.clone(), size: bytes.len(), script: None });
        self.inner.functions.insert(sha256, module.clone());
        Ok(module)
    }

    /// A function whose code is a script run by `runtime` (a component of the `function`
    /// world, e.g. the JavaScript runtime): it shares the runtime's compiled and
    /// pre-instantiated component, and each call gives the runtime
    /// `{"source": <source>, "event": {"data": <input>}}` (seed 001's event: the trigger's
    /// `data`). Known by the sha256 of the source.
    pub fn load_script(&self, runtime: &FunctionModule, source: &str) -> Arc<FunctionModule> {
        let sha256 = module_hash(source.as_bytes());
        if let Some(module) = self.inner.functions.get(&sha256) {
            return module.clone();
        }
        let module = Arc::new(FunctionModule {
            pre: runtime.pre.clone(),
            sha256: sha256.clone(),
            size: source.len(),
            script: Some(Arc::from(source)),
        });
        self.inner.functions.insert(sha256, module.clone());
        module
    }

    /// The function already loaded from bytes with this sha256, if any.
    pub fn cached_function(&self, sha256: &str) -> Option<Arc<FunctionModule>> {
        self.inner.functions.get(sha256).map(|m| m.clone())
    }

    /// The bin already loaded from bytes with this sha256, if any.
    pub fn cached_bin(&self, sha256: &str) -> Option<Arc<BinModule>> {
        self.inner.bins.get(sha256).map(|m| m.clone())
    }

    /// Like [`Engine::load_function`] for a bin; also reads and checks its manifest.
    pub fn load_bin(&self, bytes: &[u8]) -> Result<Arc<BinModule>, EngineError> {
        let sha256 = module_hash(bytes);
        if let Some(module) = self.inner.bins.get(&sha256) {
            return Ok(module.clone());
        }
        let (pre, tier) = self.instance_pre(bytes, &sha256, "bin")?;
        let pre = BinPre::new(pre).map_err(|e| wrong_world("bin", &e))?;
        let manifest = self.read_manifest(&pre)?;
        manifest.validate().map_err(|detail| EngineError::WrongWorld {
            expected: "bin",
            detail: format!("invalid manifest: {detail}"),
        })?;
        let pre = Arc::new(Tiered::new(pre, tier));
        if tier == Tier::Baseline {
            self.optimize_later(bytes, &sha256, "bin", &pre, BinPre::new);
        }
        let module =
            Arc::new(BinModule { pre, sha256: sha256.clone(), size: bytes.len(), manifest: Arc::new(manifest) });
        self.inner.bins.insert(sha256, module.clone());
        Ok(module)
    }

    /// Compiles (or loads) the component, at the baseline tier when it is large and no
    /// optimized code of it is cached, and pre-instantiates it with its engine's linker.
    fn instance_pre(
        &self,
        bytes: &[u8],
        sha256: &str,
        world: &'static str,
    ) -> Result<(InstancePre, Tier), EngineError> {
        let (component, tier) = self.compile_tiered(bytes, sha256)?;
        let linker = match (&self.inner.baseline, tier) {
            (Some(baseline), Tier::Baseline) => &baseline.linker,
            _ => &self.inner.linker,
        };
        Ok((linker.instantiate_pre(&component).map_err(|e| wrong_world(world, &e))?, tier))
    }

    fn compile_tiered(&self, bytes: &[u8], sha256: &str) -> Result<(Component, Tier), EngineError> {
        let optimized = || Ok((self.inner.compiler.compile(bytes, sha256)?, Tier::Optimized));
        let Some(baseline) = self.inner.baseline.as_ref().filter(|b| bytes.len() >= b.min_bytes) else {
            return optimized();
        };
        if let Some(component) = self.inner.compiler.cached(sha256) {
            return Ok((component, Tier::Optimized));
        }
        match baseline.compiler.compile(bytes, sha256) {
            Ok(component) => Ok((component, Tier::Baseline)),
            Err(e @ (EngineError::ModuleTooLarge { .. } | EngineError::NotAComponent)) => Err(e),
            // Winch lacks a few proposals (tail calls, exceptions, parts of SIMD).
            Err(e) => {
                tracing::info!(sha256, error = %e, "Winch cannot compile this component; using Cranelift");
                optimized()
            }
        }
    }

    /// Queues the Cranelift compile of a module loaded at the baseline tier; `typed`
    /// checks the result against the module's world, as the baseline code was.
    fn optimize_later<P: Clone + Send + Sync + 'static>(
        &self,
        bytes: &[u8],
        sha256: &str,
        world: &'static str,
        tiered: &Arc<Tiered<P>>,
        typed: fn(InstancePre) -> wasmtime::Result<P>,
    ) {
        let Some(baseline) = &self.inner.baseline else { return };
        let (engine, target) = (Arc::downgrade(&self.inner), Arc::downgrade(tiered));
        let (bytes, sha256) = (bytes.to_vec(), sha256.to_string());
        baseline.optimizer.submit(Box::new(move || {
            let (Some(inner), Some(target)) = (engine.upgrade(), target.upgrade()) else { return };
            let started = Instant::now();
            let optimized = inner
                .compiler
                .compile(&bytes, &sha256)
                .and_then(|component| inner.linker.instantiate_pre(&component).map_err(|e| wrong_world(world, &e)))
                .and_then(|pre| typed(pre).map_err(|e| wrong_world(world, &e)));
            match optimized {
                Ok(pre) => {
                    target.promote(pre);
                    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                    tracing::info!(sha256, ms, "optimized code swapped in");
                }
                Err(e) => tracing::warn!(sha256, error = %e, "optimizing failed; the baseline code stays"),
            }
        }));
    }

    fn read_manifest(&self, pre: &BinPre<HostState>) -> Result<Manifest, EngineError> {
        let log = CapturedLog::new(MANIFEST_LOG_BYTES);
        let calls = Calls { resolver: None, deadline: Instant::now() + MANIFEST_TIMEOUT, instance_id: None };
        let context = BinContext {
            state: InstanceState::default(),
            manifest: Arc::new(Manifest::default()),
            fetched: Default::default(),
        };
        let state = HostState::new(log.clone(), FREE_PLAN_MEMORY, calls, Some(context));
        let mut store = self.new_store(pre.engine(), state, MANIFEST_TIMEOUT);
        let result = pre
            .instantiate(&mut store)
            .and_then(|bin| bin.call_manifest(&mut store))
            .map_err(|e| trap::classify(e, &store, MANIFEST_TIMEOUT, &log));
        result.map(Manifest::from).map_err(|e| EngineError::WrongWorld {
            expected: "bin",
            detail: format!("its `manifest` export failed: {e}"),
        })
    }
}

type InstancePre = wasmtime::component::InstancePre<HostState>;

fn wrong_world(expected: &'static str, e: &wasmtime::Error) -> EngineError {
    EngineError::WrongWorld { expected, detail: format!("{e:#}") }
}
