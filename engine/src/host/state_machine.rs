//! `state-machine`: moves of the instance's state machines, checked against the manifest.
//! Sees only the bin's context (none in a function, whose calls get `NotAvailable`).

use wasmtime::component::Linker;

use super::wit::state_machine::{Host, add_to_linker as add};
use super::{BinView, HasBin, HostState, bins_only};
use crate::bindings::WitError;

impl Host for BinView<'_> {
    fn transition(&mut self, machine: u32, state: String) -> Result<(), WitError> {
        let bin = self.0.as_mut().ok_or_else(|| bins_only("state machines"))?;
        bin.state
            .transition(&bin.manifest, machine, &state)
            .map_err(|message| WitError { code: "InvalidTransition".into(), message })
    }

    fn current(&mut self, machine: u32) -> Option<String> {
        self.0.as_ref()?.state.current(machine).map(str::to_string)
    }
}

/// Links `state-machine` with its view of the store.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    add::<HostState, HasBin>(linker, |s| BinView(s.bin.as_mut()))
}
