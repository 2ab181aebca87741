//! `functions`: calls by `functionKey`, checked against the bin's manifest, resolved by
//! the run's resolver, and written to the log either way. Sees the calls' resolver and
//! deadline, the log, and the bin's manifest (none in a function).

use std::time::Instant;

use wasmtime::component::{HasData, Linker};

use super::wit::functions::{Host, add_to_linker as add};
use super::{Calls, HostState};
use crate::bindings::{Level, WitError, WitValue};
use crate::capture::CapturedLog;
use crate::manifest::Manifest;
use crate::resolver::{CallError, FunctionCall};
use crate::value::{from_json, to_json};

/// What `functions` sees of a store.
pub(crate) struct FunctionsView<'a> {
    calls: &'a Calls,
    log: &'a CapturedLog,
    manifest: Option<&'a Manifest>,
}

impl Host for FunctionsView<'_> {
    fn call(&mut self, function_key: String, params: Vec<WitValue>) -> Result<WitValue, WitError> {
        let started = Instant::now();
        let result = self.resolve(&function_key, params);
        let ms = started.elapsed().as_millis();
        match &result {
            Ok(_) => self.log.line(Level::Info, &format!("call {function_key:?} ok in {ms} ms")),
            Err(e) => self.log.line(Level::Warn, &format!("call {function_key:?} failed in {ms} ms: {e}")),
        }
        result.map(|v| from_json(&v)).map_err(|e| WitError { code: e.code, message: e.message })
    }
}

impl FunctionsView<'_> {
    fn resolve(&self, key: &str, params: Vec<WitValue>) -> Result<serde_json::Value, CallError> {
        if let Some(manifest) = self.manifest
            && !manifest.declares_function(key)
        {
            return Err(CallError::new(
                "NotDeclared",
                format!("function key {key:?} is not declared in the bin's manifest"),
            ));
        }
        let resolver = self
            .calls
            .resolver
            .as_ref()
            .ok_or_else(|| CallError::new("NotBound", format!("no function is bound to key {key:?}")))?;
        if Instant::now() >= self.calls.deadline {
            return Err(CallError::new("DeadlineExceeded", "the caller's deadline has passed"));
        }
        let params: Vec<_> = params.into_iter().map(to_json).collect();
        let call = FunctionCall {
            function_key: key,
            params: &params,
            deadline: self.calls.deadline,
            instance_id: self.calls.instance_id.as_deref(),
        };
        resolver.call(&call)
    }
}

struct HasFunctions;

impl HasData for HasFunctions {
    type Data<'a> = FunctionsView<'a>;
}

/// Links `functions` with its view of the store.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    add::<HostState, HasFunctions>(linker, |s| FunctionsView {
        calls: &s.calls,
        log: &s.log,
        manifest: s.bin.as_ref().map(|b| &*b.manifest),
    })
}
