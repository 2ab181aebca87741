//! The state of one execution instance of a bin: its variables and the current state
//! and path of each state machine. It lives in the host, not in wasm memory, so a run
//! can be committed or dropped as a whole.

use crate::clock::now_ms;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::manifest::Manifest;
use super::value::TypedValue;

/// One step of a state machine's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathEntry {
    /// The state entered.
    pub state: String,
    /// When it was entered, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// A state machine of an instance: where it is and how it got there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineState {
    /// The current state.
    pub current: String,
    /// Every state entered, in order, starting with the initial one.
    pub path: Vec<PathEntry>,
}

/// Most variables one instance keeps: every run copies and stores them all, so an
/// instance of hundreds of thousands would make each run take seconds.
pub const MAX_VARIABLES: usize = 10_000;

/// Variables and state machines of one execution instance.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceState {
    /// Variables by key.
    pub variables: BTreeMap<String, TypedValue>,
    /// State machines by number.
    pub machines: BTreeMap<u32, MachineState>,
}

impl InstanceState {
    /// A fresh instance of a bin: no variables, every machine in its initial state.
    pub fn new(manifest: &Manifest) -> Self {
        let at_ms = now_ms();
        let machines = manifest
            .state_machines
            .iter()
            .map(|m| {
                let entry = PathEntry { state: m.initial.clone(), at_ms };
                (m.id, MachineState { current: m.initial.clone(), path: vec![entry] })
            })
            .collect();
        Self { variables: BTreeMap::new(), machines }
    }

    /// Moves machine `id` to `to` if the manifest allows it; the error says why not.
    pub fn transition(&mut self, manifest: &Manifest, id: u32, to: &str) -> Result<(), String> {
        let decl = manifest.machine(id).ok_or_else(|| format!("state machine {id} is not declared"))?;
        if !decl.states.iter().any(|s| s == to) {
            return Err(format!("state machine {id} ({:?}) has no state {to:?}", decl.name));
        }
        let machine = self.machines.entry(id).or_insert_with(|| MachineState {
            current: decl.initial.clone(),
            path: vec![PathEntry { state: decl.initial.clone(), at_ms: now_ms() }],
        });
        let allowed =
            decl.transitions.is_empty() || decl.transitions.iter().any(|t| t.from == machine.current && t.to == to);
        if !allowed {
            return Err(format!(
                "state machine {id} ({:?}) cannot move from {:?} to {to:?}",
                decl.name, machine.current
            ));
        }
        machine.current = to.to_string();
        machine.path.push(PathEntry { state: to.to_string(), at_ms: now_ms() });
        Ok(())
    }

    /// The current state of machine `id`.
    pub fn current(&self, id: u32) -> Option<&str> {
        self.machines.get(&id).map(|m| m.current.as_str())
    }

    /// The states machine `id` went through, in order.
    pub fn path(&self, id: u32) -> Option<Vec<&str>> {
        self.machines.get(&id).map(|m| m.path.iter().map(|p| p.state.as_str()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{StateMachineDecl, TransitionDecl};

    fn manifest() -> Manifest {
        let t = |from: &str, to: &str| TransitionDecl { from: from.into(), to: to.into() };
        Manifest {
            functions: vec![],
            state_machines: vec![StateMachineDecl {
                id: 1,
                name: "order".into(),
                states: vec!["cart".into(), "ordered".into(), "paid".into()],
                initial: "cart".into(),
                transitions: vec![t("cart", "ordered"), t("ordered", "paid")],
            }],
            get_var_url: None,
        }
    }

    #[test]
    fn walks_declared_transitions_and_records_the_path() {
        let m = manifest();
        let mut s = InstanceState::new(&m);
        assert_eq!(s.current(1), Some("cart"));
        assert!(s.transition(&m, 1, "ordered").is_ok());
        assert!(s.transition(&m, 1, "paid").is_ok());
        assert_eq!(s.path(1), Some(vec!["cart", "ordered", "paid"]));
    }

    #[test]
    fn refuses_undeclared_moves_states_and_machines() {
        let m = manifest();
        let mut s = InstanceState::new(&m);
        assert!(s.transition(&m, 1, "paid").unwrap_err().contains("cannot move from \"cart\""));
        assert!(s.transition(&m, 1, "shipped").unwrap_err().contains("no state"));
        assert!(s.transition(&m, 2, "cart").unwrap_err().contains("not declared"));
        assert_eq!(s.path(1), Some(vec!["cart"]));
    }
}
