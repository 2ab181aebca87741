//! The error every service returns; the HTTP layer maps it to a status in one place.

use crate::engine::EngineError;
use crate::store::StoreError;

/// What a service call can fail with, in terms a client understands.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed or a value is out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// No valid token.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token that may not do this.
    #[error("{0}")]
    AccessDenied(String),
    /// The resource does not exist (or belongs to another app).
    #[error("{what} does not exist")]
    NotFound {
        /// The resource kind for the error code, e.g. `Function`.
        kind: &'static str,
        /// What was looked for, for the message.
        what: String,
    },
    /// The resource already exists.
    #[error("{what} already exists")]
    AlreadyExists {
        /// The resource kind for the error code.
        kind: &'static str,
        /// What, for the message.
        what: String,
    },
    /// The request conflicts with the resource's current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code, e.g. `TaskNotWaiting`.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// Uploaded code was rejected by the engine.
    #[error("{0}")]
    InvalidModule(EngineError),
    /// Too much work in flight.
    #[error("{0}")]
    Throttled(String),
    /// The server's storage is full: nothing of the request was stored (503).
    #[error("the server's storage is full; nothing of this request was stored ({0})")]
    StorageFull(String),
    /// Our fault; details go to the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// A missing function.
    pub fn function_not_found(name: &str) -> Self {
        Self::NotFound { kind: "Function", what: format!("function {name:?}") }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists { kind, what } => Self::AlreadyExists { kind, what },
            StoreError::NotFound(what) => Self::NotFound { kind: "Resource", what },
            StoreError::Full(message) => Self::StorageFull(message),
            e @ StoreError::LeaseLost(_) => Self::Conflict { code: "LeaseLost", message: e.to_string() },
            StoreError::Database(message) => Self::Internal(message),
        }
    }
}
