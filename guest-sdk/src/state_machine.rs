//! State machines of the current execution instance (bins only).
//!
//! Machines are numbered by the `id` of their [`StateMachineDecl`](crate::StateMachineDecl)
//! in the bin's manifest.

use crate::__private::bindings::cloudexec::runtime::state_machine as imports;
use crate::Error;

/// Move machine `machine` to `state`; fails for an undeclared machine or state, or a
/// move the manifest's transitions do not allow.
///
/// ```no_run
/// # fn main() -> Result<(), cloudexec_sdk::Error> {
/// cloudexec_sdk::state_machine::transition(1, "ordered")?;
/// # Ok(())
/// # }
/// ```
pub fn transition(machine: u32, state: &str) -> Result<(), Error> {
    imports::transition(machine, state).map_err(Error::from)
}

/// The current state of machine `machine`; `None` if the manifest does not declare it.
///
/// ```no_run
/// if cloudexec_sdk::state_machine::current(1).as_deref() == Some("cart") {
///     cloudexec_sdk::info!("still shopping");
/// }
/// ```
pub fn current(machine: u32) -> Option<String> {
    imports::current(machine)
}
