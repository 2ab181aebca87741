//! `state-machine`: moves of the instance's state machines, checked against the manifest.

use super::wit::state_machine::Host;
use super::{HostState, bins_only};
use crate::engine::bindings::WitError;

impl Host for HostState {
    fn transition(&mut self, machine: u32, state: String) -> Result<(), WitError> {
        let bin = self.bin.as_mut().ok_or_else(|| bins_only("state machines"))?;
        bin.state
            .transition(&bin.manifest, machine, &state)
            .map_err(|message| WitError { code: "InvalidTransition".into(), message })
    }

    fn current(&mut self, machine: u32) -> Option<String> {
        self.bin.as_ref()?.state.current(machine).map(str::to_string)
    }
}
