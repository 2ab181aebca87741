//! A test harness for function and bin authors: load a `.wasm`, bind or stub function
//! keys, set variables, run, and assert on output, log, variables and state paths,
//! from an ordinary `cargo test`.
//!
//! ```no_run
//! use cloudexec_engine::testing::TestRuntime; // also `cloudexec::testing`
//! use serde_json::json;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let rt = TestRuntime::new()?;
//! let hello = rt.function("target/wasm32-wasip2/release/hello.wasm")?;
//! let out = hello.invoke(json!({"name": "Ada"}));
//! assert_eq!(out.result?, json!({"greeting": "Hello, Ada!"}));
//! assert!(out.log.text.contains("greeting Ada"));
//!
//! let shop = rt.bin("target/wasm32-wasip2/release/shop.wasm")?;
//! let mut instance = shop.instance();
//! instance.stub("utcook.jar:com.ut.BuzMethod.shoppingCart", |_| Ok(json!(true)));
//! instance.run(json!({"item": "apple"}))?;
//! assert_eq!(instance.var("inCart"), Some(&json!(true)));
//! assert_eq!(instance.path(1), vec!["cart"]);
//! # Ok(()) }
//! ```

use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;

use crate::local::LocalBindings;
use crate::updates::parse_updates;
use crate::{
    BinModule, BinRun, CallError, Engine, EngineConfig, EngineError, FunctionModule, InstanceState, Invocation, Limits,
    RunOptions,
};

/// Why a harness call failed before or instead of running the guest.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The engine refused the module or the run failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The variable updates were malformed.
    #[error("invalid variable updates: {0}")]
    Updates(String),
}

/// An engine for tests, compiling in memory only.
#[derive(Debug, Clone)]
pub struct TestRuntime {
    engine: Engine,
}

impl TestRuntime {
    /// An engine with the default configuration and no disk cache.
    pub fn new() -> Result<Self, TestError> {
        Ok(Self { engine: Engine::new(EngineConfig::default())? })
    }

    /// A harness over an engine you configured yourself.
    pub fn with_engine(engine: Engine) -> Self {
        Self { engine }
    }

    /// The engine, for calls the harness does not wrap.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Loads a function component from a file.
    pub fn function(&self, path: impl AsRef<Path>) -> Result<TestFunction, TestError> {
        let module = self.engine.load_function(&read(path.as_ref())?)?;
        Ok(TestFunction { engine: self.engine.clone(), module, limits: Limits::default() })
    }

    /// Loads a bin component from a file.
    pub fn bin(&self, path: impl AsRef<Path>) -> Result<TestBin, TestError> {
        let module = self.engine.load_bin(&read(path.as_ref())?)?;
        Ok(TestBin { engine: self.engine.clone(), module })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TestError> {
    std::fs::read(path).map_err(|source| TestError::Read { path: path.display().to_string(), source })
}

/// A loaded function.
#[derive(Debug, Clone)]
pub struct TestFunction {
    engine: Engine,
    module: Arc<FunctionModule>,
    limits: Limits,
}

impl TestFunction {
    /// The same function under other limits (memory cap, deadline, log cap).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Invokes it once on `input`.
    pub fn invoke(&self, input: Json) -> Invocation {
        self.engine.invoke(&self.module, &input, &self.limits)
    }

    /// The loaded module (hash, size).
    pub fn module(&self) -> &Arc<FunctionModule> {
        &self.module
    }
}

/// A loaded bin; make instances of it to run.
#[derive(Debug, Clone)]
pub struct TestBin {
    engine: Engine,
    module: Arc<BinModule>,
}

impl TestBin {
    /// The bin's manifest and hash.
    pub fn module(&self) -> &Arc<BinModule> {
        &self.module
    }

    /// A fresh instance: no variables, machines in their initial states, no bindings.
    pub fn instance(&self) -> TestInstance {
        TestInstance {
            engine: self.engine.clone(),
            module: self.module.clone(),
            state: InstanceState::new(&self.module.manifest),
            bindings: Arc::new(LocalBindings::new(self.engine.clone())),
            limits: Limits::default(),
        }
    }
}

/// One execution instance held in memory; each run commits like the server does.
#[derive(Debug)]
pub struct TestInstance {
    engine: Engine,
    module: Arc<BinModule>,
    state: InstanceState,
    bindings: Arc<LocalBindings>,
    limits: Limits,
}

impl TestInstance {
    /// Binds `key` to a loaded function.
    pub fn bind(&mut self, key: &str, function: &TestFunction) -> &mut Self {
        Arc::make_mut(&mut self.bindings).bind_wasm(key, function.module.clone(), function.limits);
        self
    }

    /// Binds `key` to a closure.
    pub fn stub(
        &mut self,
        key: &str,
        stub: impl Fn(&[Json]) -> Result<Json, CallError> + Send + Sync + 'static,
    ) -> &mut Self {
        Arc::make_mut(&mut self.bindings).bind_stub(key, stub);
        self
    }

    /// Sets the limits of the following runs.
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// Runs the bin once with `updates` (a key → value object, or seed 000's
    /// `varList`). The state is committed unless the run trapped or hit a limit.
    pub fn run(&mut self, updates: Json) -> Result<BinRun, TestError> {
        let updates = parse_updates(&updates).map_err(TestError::Updates)?;
        let options = RunOptions { resolver: Some(self.bindings.clone()), instance_id: Some("test-instance".into()) };
        let run = self.engine.run_bin(&self.module, &self.state, updates, options, &self.limits);
        if let Some(state) = &run.state {
            self.state = state.clone();
        }
        Ok(run)
    }

    /// A variable's value.
    pub fn var(&self, key: &str) -> Option<&Json> {
        self.state.variables.get(key).map(|v| &v.data)
    }

    /// The whole instance state.
    pub fn state(&self) -> &InstanceState {
        &self.state
    }

    /// The current state of machine `id`.
    pub fn current(&self, id: u32) -> Option<&str> {
        self.state.current(id)
    }

    /// The states machine `id` went through (empty for an unknown machine).
    pub fn path(&self, id: u32) -> Vec<&str> {
        self.state.path(id).unwrap_or_default()
    }
}
