//! How a guest's call to a `functionKey` reaches a function: the host asks a resolver,
//! which the caller of a run supplies (local wasm files in the CLI and tests, cloud
//! functions or HTTP endpoints of an app in the server).

use std::time::Instant;

use serde_json::Value as Json;

use crate::value::TypedValue;

/// One call a guest makes through the `functions` import.
#[derive(Debug, Clone, Copy)]
pub struct FunctionCall<'a> {
    /// The key the guest called.
    pub function_key: &'a str,
    /// Positional parameters, as JSON.
    pub params: &'a [Json],
    /// When the calling guest's own deadline passes; the callee must finish before it.
    pub deadline: Instant,
    /// The execution instance making the call, when the caller is a bin.
    pub instance_id: Option<&'a str>,
}

/// Why a call failed; the guest receives it as an `error` value and may handle it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CallError {
    /// A short word: `NotBound`, `NotDeclared`, `DeadlineExceeded`, `FunctionFailed`, ...
    pub code: String,
    /// What happened.
    pub message: String,
}

impl CallError {
    /// A call error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

/// A variable a bin reads that its instance does not hold (seed 000, 4.3).
#[derive(Debug, Clone, Copy)]
pub struct VarFetch<'a> {
    /// The variable's key.
    pub key: &'a str,
    /// The execution instance reading it.
    pub instance_id: Option<&'a str>,
    /// When the run's deadline passes; the fetch must finish before it.
    pub deadline: Instant,
}

/// Resolves `functionKey`s to something that runs. Called on the invoking thread, inside
/// the caller's run; implementations must honour `call.deadline`.
pub trait FunctionResolver: Send + Sync {
    /// Runs the function bound to `call.function_key` and returns its result.
    fn call(&self, call: &FunctionCall<'_>) -> Result<Json, CallError>;

    /// The value of a variable the instance does not hold, from the engine layer (the
    /// bin's `getVarUrl`); `Ok(None)` when there is no such source or no such variable.
    fn fetch_var(&self, fetch: &VarFetch<'_>) -> Result<Option<TypedValue>, CallError> {
        let _ = fetch;
        Ok(None)
    }
}
