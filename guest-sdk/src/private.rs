//! What the `#[function]` and `#[bin]` expansions use. Not a stable API.

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use wit_bindgen;

/// Bindings of the imports-only `imports` world: the host imports and the shared types.
///
/// This is the only `generate!` in the SDK, so linking the SDK adds only imports to a
/// guest's component type; the export glue is generated in the guest crate by the macros,
/// which map these interfaces with `with` instead of generating them again.
#[allow(missing_docs, unsafe_code, missing_debug_implementations)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "imports",
        additional_derives: [PartialEq],
    });
}

pub use bindings::cloudexec::runtime::log::Level;
pub use bindings::cloudexec::runtime::types::{
    Error as WitError, TypedValue as WitTypedValue, Value, Variable as WitVariable,
};

use crate::{Error, Updates, value};

/// Write one log line; the log macros expand to this.
pub fn log(level: Level, message: &str) {
    bindings::cloudexec::runtime::log::write(level, message);
}

impl From<Error> for WitError {
    fn from(e: Error) -> Self {
        Self { code: e.code, message: e.message }
    }
}

impl From<WitError> for Error {
    fn from(e: WitError) -> Self {
        Self::new(e.code, e.message)
    }
}

/// The body of a function's `handle` export: JSON in, `f`, JSON out.
pub fn handle<I, O, E, F>(input: Value, f: F) -> Result<Value, WitError>
where
    I: DeserializeOwned,
    O: Serialize,
    E: Into<Error>,
    F: FnOnce(I) -> Result<O, E>,
{
    let invalid = |e: serde_json::Error| Error::new("InvalidArgument", format!("invalid input: {e}"));
    let json = value::to_json(input).map_err(invalid)?;
    let input = I::deserialize(&json).map_err(invalid)?;
    let output = f(input).map_err(|e| WitError::from(e.into()))?;
    let output = serde_json::to_value(output)
        .map_err(|e| Error::new("InvalidOutput", format!("cannot serialize the output: {e}")))?;
    Ok(value::from_json(output))
}

/// The body of a bin's `run` export: wrap the updates and call `f`.
pub fn run<E, F>(updates: Vec<WitVariable>, f: F) -> Result<(), WitError>
where
    E: Into<Error>,
    F: FnOnce(Updates) -> Result<(), E>,
{
    let updates = updates.into_iter().map(crate::Variable::from).collect();
    f(Updates::new(updates)).map_err(|e| WitError::from(e.into()))
}
