//! The error type every SDK call and every guest entry point uses.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A failure with a short machine-readable `code` and a human `message`.
///
/// It maps one to one onto the WIT `error` record: a function returning `Err(e)` hands
/// `e` to the host as its result, and failed host calls come back as one.
///
/// ```
/// use cloudexec_sdk::Error;
///
/// let e = Error::new("InvalidArgument", "amount must be positive");
/// assert_eq!(e.to_string(), "InvalidArgument: amount must be positive");
/// let plain: Error = "something broke".into();
/// assert_eq!(plain.code, "Error");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Error {
    /// A short machine-readable word, e.g. `NotFound`, `InvalidArgument`.
    pub code: String,
    /// What happened, for people.
    pub message: String,
}

impl Error {
    /// An error with the given code and message.
    ///
    /// ```
    /// let e = cloudexec_sdk::Error::new("Mismatch", "3 != 4");
    /// assert_eq!(e.code, "Mismatch");
    /// ```
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// A JSON (de)serialization failure becomes code `InvalidData`.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Self::new("InvalidData", e.to_string())
    }
}

/// A bare message becomes code `Error`.
impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Self::new("Error", message)
    }
}

/// A bare message becomes code `Error`.
impl From<String> for Error {
    fn from(message: String) -> Self {
        Self::new("Error", message)
    }
}
