//! cloudexec: a serverless runtime that runs user code as WebAssembly components.
//!
//! The [`engine`] runs cloud functions and stateful bins in sandboxed stores; the
//! [`testing`] module lets a function author run their `.wasm` from `cargo test`; the
//! [`cli`] is the `cloudexec` binary's command line; [`local`] binds function keys to
//! local wasm files for both.

pub mod apps;
pub mod authoring;
pub mod bins;
pub mod cache;
pub mod cli;
pub mod cpu;
pub mod egress;
pub mod error;
pub mod flows;
pub mod functions;
pub mod http;
pub mod ids;
pub mod modules;
mod notices;
pub mod runs;
pub mod server;
pub mod signing;
pub mod time;

/// The wasm engine (crate `cloudexec-engine`).
pub use cloudexec_engine as engine;
/// Local function-key bindings (from the engine crate).
pub use cloudexec_engine::local;
/// The guest authors' test harness (from the engine crate).
pub use cloudexec_engine::testing;
/// Persistence: the store trait and SQLite (crate `cloudexec-store`).
pub use cloudexec_store as store;
