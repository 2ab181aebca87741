//! PostgreSQL errors as [`StoreError`]s, the way `sqlite::db_error` classifies SQLite's:
//! a full disk is `Full`, a missing referenced row `NotFound`, a taken unique name
//! `AlreadyExists` (the caller names what), anything else `Database`.

use tokio_postgres::error::SqlState;

use crate::StoreError;

/// A driver or pool error as a [`StoreError`].
pub(super) fn db_error(e: impl std::fmt::Display + 'static) -> StoreError {
    let code = (&e as &dyn std::any::Any).downcast_ref::<tokio_postgres::Error>().and_then(tokio_postgres::Error::code);
    match code {
        Some(c) if *c == SqlState::DISK_FULL => StoreError::Full(e.to_string()),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => {
            StoreError::NotFound("a row it refers to (deleted meanwhile)".into())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// [`db_error`], but a unique violation is `AlreadyExists` of `kind` `what`.
pub(super) fn unique(kind: &'static str, what: String) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists { kind, what },
        _ => db_error(e),
    }
}

/// A failed write: a unique key taken is `AlreadyExists` of `kind` (`taken` says which), a
/// missing parent row `NotFound(missing)`, anything else as [`db_error`].
pub(super) fn constraint(e: tokio_postgres::Error, kind: &'static str, taken: String, missing: &str) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists { kind, what: taken },
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => StoreError::NotFound(missing.to_string()),
        _ => db_error(e),
    }
}
