//! `vars`: the variables of the instance being run. Sees the bin's context (none in a
//! function, whose calls get `NotAvailable`), and for `fetch` the run's resolver,
//! deadline and log.

use std::time::Instant;

use wasmtime::component::{HasData, Linker};

use super::wit::vars::{Host, add_to_linker as add};
use super::{BinContext, Calls, HostState, bins_only};
use crate::MAX_VARIABLES;
use crate::bindings::{Level, WitError, WitTypedValue, WitValue, WitVariable};
use crate::capture::CapturedLog;
use crate::resolver::VarFetch;
use crate::value::{infer_from_wit, typed_from_wit, typed_to_wit};

/// What `vars` sees of a store.
pub(crate) struct VarsView<'a> {
    bin: Option<&'a mut BinContext>,
    calls: &'a Calls,
    log: &'a CapturedLog,
}

impl Host for VarsView<'_> {
    fn get(&mut self, key: String) -> Option<WitTypedValue> {
        self.bin.as_ref()?.state.variables.get(&key).map(typed_to_wit)
    }

    fn fetch(&mut self, key: String) -> Result<Option<WitTypedValue>, WitError> {
        let bin = self.bin.as_mut().ok_or_else(|| bins_only("variables"))?;
        if let Some(value) = bin.state.variables.get(&key).or_else(|| bin.fetched.get(&key)) {
            return Ok(Some(typed_to_wit(value)));
        }
        let Some(resolver) = &self.calls.resolver else { return Ok(None) };
        if Instant::now() >= self.calls.deadline {
            return Err(WitError { code: "DeadlineExceeded".into(), message: "the run's deadline has passed".into() });
        }
        let fetch =
            VarFetch { key: &key, instance_id: self.calls.instance_id.as_deref(), deadline: self.calls.deadline };
        let started = Instant::now();
        let fetched = resolver.fetch_var(&fetch);
        let ms = started.elapsed().as_millis();
        match &fetched {
            Ok(Some(_)) => self.log.line(Level::Info, &format!("fetch {key:?} from getVarUrl ok in {ms} ms")),
            Ok(None) => {}
            Err(e) => self.log.line(Level::Warn, &format!("fetch {key:?} from getVarUrl failed in {ms} ms: {e}")),
        }
        let fetched = fetched.map_err(|e| WitError { code: e.code, message: e.message })?;
        Ok(fetched.map(|value| {
            let wit = typed_to_wit(&value);
            bin.fetched.insert(key, value);
            wit
        }))
    }

    fn set(&mut self, key: String, value: WitValue) -> Result<(), WitError> {
        let bin = self.bin.as_mut().ok_or_else(|| bins_only("variables"))?;
        room_for(&bin.state.variables, &key)?;
        bin.state.variables.insert(key, infer_from_wit(value));
        Ok(())
    }

    fn set_typed(&mut self, key: String, value: WitTypedValue) -> Result<(), WitError> {
        let bin = self.bin.as_mut().ok_or_else(|| bins_only("variables"))?;
        room_for(&bin.state.variables, &key)?;
        bin.state.variables.insert(key, typed_from_wit(value));
        Ok(())
    }

    fn list(&mut self) -> Vec<WitVariable> {
        let Some(bin) = &self.bin else {
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

struct HasVars;

impl HasData for HasVars {
    type Data<'a> = VarsView<'a>;
}

/// Links `vars` with its view of the store.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    add::<HostState, HasVars>(linker, |s| VarsView { bin: s.bin.as_mut(), calls: &s.calls, log: &s.log })
}
