//! Function keys bound to local wasm files or to closures: the resolver the CLI and
//! the test harness give a bin, in place of the server's per-app bindings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value as Json;

use crate::{CallError, Engine, EngineError, FunctionCall, FunctionModule, FunctionResolver, Limits};

type Stub = dyn Fn(&[Json]) -> Result<Json, CallError> + Send + Sync;

#[derive(Clone)]
enum Binding {
    Wasm { module: Arc<FunctionModule>, limits: Limits },
    Stub(Arc<Stub>),
}

/// A map of function keys to local functions. A wasm function gets the call's
/// parameters as one JSON array and runs under its own limits, cut to the caller's
/// remaining time.
#[derive(Clone)]
pub struct LocalBindings {
    engine: Engine,
    bindings: HashMap<String, Binding>,
}

impl std::fmt::Debug for LocalBindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBindings").field("keys", &self.bindings.keys().collect::<Vec<_>>()).finish()
    }
}

impl LocalBindings {
    /// No bindings yet; wasm functions will run on `engine`.
    pub fn new(engine: Engine) -> Self {
        Self { engine, bindings: HashMap::new() }
    }

    /// Binds `key` to a loaded function, run under `limits`.
    pub fn bind_wasm(&mut self, key: impl Into<String>, module: Arc<FunctionModule>, limits: Limits) {
        self.bindings.insert(key.into(), Binding::Wasm { module, limits });
    }

    /// Binds `key` to a closure, e.g. a stub in a test.
    pub fn bind_stub(
        &mut self,
        key: impl Into<String>,
        stub: impl Fn(&[Json]) -> Result<Json, CallError> + Send + Sync + 'static,
    ) {
        self.bindings.insert(key.into(), Binding::Stub(Arc::new(stub)));
    }

    /// Whether `key` is bound.
    pub fn contains(&self, key: &str) -> bool {
        self.bindings.contains_key(key)
    }
}

impl FunctionResolver for LocalBindings {
    fn call(&self, call: &FunctionCall<'_>) -> Result<Json, CallError> {
        let binding = self.bindings.get(call.function_key).ok_or_else(|| {
            CallError::new("NotBound", format!("no function is bound to key {:?}", call.function_key))
        })?;
        match binding {
            Binding::Stub(stub) => stub(call.params),
            Binding::Wasm { module, limits } => {
                let remaining = call.deadline.saturating_duration_since(Instant::now());
                let limits = limits.with_timeout(limits.timeout.min(remaining));
                let input = Json::Array(call.params.to_vec());
                self.engine.invoke(module, &input, &limits).result.map_err(call_error)
            }
        }
    }
}

/// How a failed callee looks to the calling guest: its own error as it raised it,
/// anything else as `FunctionFailed` with the engine's message.
pub fn call_error(error: EngineError) -> CallError {
    match error {
        EngineError::Guest { code, message } => CallError { code, message },
        other => CallError::new("FunctionFailed", other.to_string()),
    }
}
