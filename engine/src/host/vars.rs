//! `vars`: the variables of the instance being run. Sees only the bin's context (none in
//! a function, whose calls get `NotAvailable`).

use wasmtime::component::Linker;

use super::wit::vars::{Host, add_to_linker as add};
use super::{BinView, HasBin, HostState, bins_only};
use crate::MAX_VARIABLES;
use crate::bindings::{WitError, WitTypedValue, WitValue, WitVariable};
use crate::value::{infer_from_wit, typed_from_wit, typed_to_wit};

impl Host for BinView<'_> {
    fn get(&mut self, key: String) -> Option<WitTypedValue> {
        self.0.as_ref()?.state.variables.get(&key).map(typed_to_wit)
    }

    fn set(&mut self, key: String, value: WitValue) -> Result<(), WitError> {
        let bin = self.0.as_mut().ok_or_else(|| bins_only("variables"))?;
        room_for(&bin.state.variables, &key)?;
        bin.state.variables.insert(key, infer_from_wit(value));
        Ok(())
    }

    fn set_typed(&mut self, key: String, value: WitTypedValue) -> Result<(), WitError> {
        let bin = self.0.as_mut().ok_or_else(|| bins_only("variables"))?;
        room_for(&bin.state.variables, &key)?;
        bin.state.variables.insert(key, typed_from_wit(value));
        Ok(())
    }

    fn list(&mut self) -> Vec<WitVariable> {
        let Some(bin) = &self.0 else {
            return Vec::new();
        };
        bin.state.variables.iter().map(|(key, v)| WitVariable { key: key.clone(), value: typed_to_wit(v) }).collect()
    }
}

/// A new key is refused once the instance has [`MAX_VARIABLES`]; the guest can handle it.
fn room_for<V>(variables: &std::collections::BTreeMap<String, V>, key: &str) -> Result<(), WitError> {
    if variables.len() >= MAX_VARIABLES && !variables.contains_key(key) {
        return Err(WitError {
            code: "TooManyVariables".into(),
            message: format!("an instance keeps at most {MAX_VARIABLES} variables"),
        });
    }
    Ok(())
}

/// Links `vars` with its view of the store.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    add::<HostState, HasBin>(linker, |s| BinView(s.bin.as_mut()))
}
