//! Functions written in JavaScript (seed 001's `function_code`). The source is the code of
//! a version: stored once by its sha256 like a module (a wasm component's bytes begin with
//! `\0asm`, JavaScript source never does), shown back as sent, and run by the JavaScript
//! runtime component the binary carries (`build.rs` builds `examples/js-runtime`), which
//! takes `{source, event}` (`Engine::load_script`). Same limits, logs, jobs and errors as
//! any function.

use std::sync::Arc;

use serde_json::json;

use super::Functions;
use crate::engine::{Engine, EngineError, FunctionModule, Limits};
use crate::error::ServiceError;
use crate::store::FunctionRecord;

/// The JavaScript runtime component.
const JS_RUNTIME: &[u8] = include_bytes!(env!("CLOUDEXEC_JS_RUNTIME"));

/// Whether stored code is a wasm component (otherwise it is JavaScript source).
fn is_wasm(code: &[u8]) -> bool {
    code.starts_with(b"\0asm")
}

/// Loads stored code: a wasm component, or JavaScript source on the runtime (compiled
/// once per process, and once per artifact cache directory).
pub(crate) fn load_code(engine: &Engine, code: &[u8]) -> Result<Arc<FunctionModule>, EngineError> {
    if is_wasm(code) {
        return engine.load_function(code);
    }
    let source = std::str::from_utf8(code)
        .map_err(|_| EngineError::InvalidModule("stored JavaScript source is not UTF-8".into()))?;
    let runtime = engine.load_function(JS_RUNTIME)?;
    Ok(engine.load_script(&runtime, source))
}

impl Functions {
    /// Checks that `source` parses (a `SyntaxError` is a 400 naming the line) and stores
    /// it; returns its sha256.
    pub(super) async fn store_script(&self, source: String) -> Result<String, ServiceError> {
        if source.trim().is_empty() {
            return Err(ServiceError::InvalidArgument("the JavaScript source is empty".into()));
        }
        let engine = self.engine.clone();
        let (source, checked) = crate::cpu::run(move || {
            let checked = engine.load_function(JS_RUNTIME).map(|runtime| {
                let check = json!({ "source": &source, "check": true });
                engine.invoke(&runtime, &check, &Limits::default()).result
            });
            (source, checked)
        })
        .await?;
        match checked.map_err(ServiceError::InvalidModule)? {
            Ok(_) => {}
            Err(EngineError::Guest { code, message }) if code == "SyntaxError" => {
                return Err(ServiceError::InvalidArgument(format!("the JavaScript source does not parse: {message}")));
            }
            Err(other) => return Err(ServiceError::Internal(format!("checking the JavaScript source: {other}"))),
        }
        let module =
            crate::modules::load_and_store(self.store.as_ref(), &self.engine, source.into_bytes(), load_code).await?.1;
        Ok(module.sha256.clone())
    }

    /// The JavaScript source of the function's current version, when it is written in
    /// JavaScript.
    pub async fn script(&self, function: &FunctionRecord) -> Result<Option<Arc<str>>, ServiceError> {
        Ok(self.module(&function.module_sha256).await?.script.clone())
    }
}
