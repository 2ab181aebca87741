//! Write cloudexec functions and bins as plain Rust functions.
//!
//! A guest crate is a `cdylib` built for `wasm32-wasip2`; it depends on this crate and
//! `serde`, and marks exactly one Rust function with [`function`] or [`bin`].
//!
//! A **function** takes one JSON input and returns one JSON output or an [`Error`]:
//!
//! ```no_run
//! use cloudexec_sdk::{Error, function, info};
//!
//! #[derive(serde::Deserialize)]
//! struct Greeting {
//!     name: Option<String>,
//! }
//!
//! #[derive(serde::Serialize)]
//! struct Reply {
//!     greeting: String,
//! }
//!
//! #[function]
//! fn hello(input: Greeting) -> Result<Reply, Error> {
//!     let name = input.name.unwrap_or_else(|| "world".into());
//!     info!("greeting {name}");
//!     Ok(Reply { greeting: format!("Hello, {name}!") })
//! }
//! # fn main() {}
//! ```
//!
//! A **bin** declares a [`Manifest`] and runs once per batch of variable [`Updates`],
//! using [`vars`], [`functions`] and [`state_machine`]:
//!
//! ```no_run
//! use cloudexec_sdk::{Error, FunctionDecl, Manifest, StateMachineDecl, Transition, Updates};
//! use cloudexec_sdk::{bin, functions, state_machine, vars};
//!
//! const MANIFEST: Manifest = Manifest {
//!     functions: &[FunctionDecl { key: "shop.cart", name: "cart", params: &["string"], returns: "bool" }],
//!     state_machines: &[StateMachineDecl {
//!         id: 1,
//!         name: "order",
//!         states: &["cart", "ordered"],
//!         initial: "cart",
//!         transitions: &[Transition { from: "cart", to: "ordered" }],
//!     }],
//! };
//!
//! #[bin(manifest = MANIFEST)]
//! fn run(updates: Updates) -> Result<(), Error> {
//!     if let Some(item) = updates.get::<String>("item")? {
//!         let ok: bool = functions::call("shop.cart", (item,))?;
//!         vars::set("inCart", &ok)?;
//!         if ok {
//!             state_machine::transition(1, "ordered")?;
//!         }
//!     }
//!     Ok(())
//! }
//! # fn main() {}
//! ```
#![deny(missing_docs)]

mod error;
pub mod functions;
mod log;
mod manifest;
pub mod state_machine;
mod updates;
pub mod value;
pub mod vars;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use error::Error;
pub use manifest::{FunctionDecl, Manifest, StateMachineDecl, Transition};
pub use updates::Updates;
pub use vars::{TypedValue, Variable};

/// Export a Rust function as the guest's `handle`: `fn(I) -> Result<O, E>`.
///
/// `I: serde::de::DeserializeOwned` is parsed from the input (a parse failure is an
/// `InvalidArgument` error), `O: serde::Serialize` is the output (one that cannot be
/// serialized is an `InvalidOutput` error) and `E: Into<`[`Error`]`>` is returned as is.
/// Positional parameters (a call from a bin) arrive as a JSON array, so take them as a
/// tuple. Use it once per crate, on a function at module level.
///
/// ```no_run
/// #[cloudexec_sdk::function]
/// fn add((a, b): (i64, i64)) -> Result<i64, cloudexec_sdk::Error> {
///     Ok(a + b)
/// }
/// # fn main() {}
/// ```
pub use cloudexec_sdk_macros::function;

/// Export a Rust function as a bin's `run`, and a [`Manifest`] as its `manifest`.
///
/// The function is `fn(`[`Updates`]`) -> Result<(), E>` with `E: Into<`[`Error`]`>`;
/// `manifest = EXPR` is any `const`-evaluable expression of type [`Manifest`]. Use it
/// once per crate, on a function at module level.
///
/// ```no_run
/// use cloudexec_sdk::{Error, Manifest, Updates, bin};
///
/// const MANIFEST: Manifest = Manifest { functions: &[], state_machines: &[] };
///
/// #[bin(manifest = MANIFEST)]
/// fn run(updates: Updates) -> Result<(), Error> {
///     cloudexec_sdk::info!("{} updates", updates.len());
///     Ok(())
/// }
/// # fn main() {}
/// ```
pub use cloudexec_sdk_macros::bin;
