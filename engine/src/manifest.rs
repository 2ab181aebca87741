//! A bin's manifest: the functions it calls and its state machines, read from the bin's
//! `manifest` export at upload and checked before the bin is accepted.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::bindings::manifest as wit;

/// A function a bin calls, as seed 000's `appData.executionData.appFunction[]` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDecl {
    /// The key the bin calls it by, e.g. `utcook.jar:com.ut.BuzMethod.order`.
    pub function_key: String,
    /// A readable name, e.g. `order`.
    pub function_name: String,
    /// Parameter type names in order, e.g. `["string", "double"]`.
    pub params_typelist: Vec<String>,
    /// Return type name, e.g. `string`.
    pub return_type: String,
}

/// An allowed move of a state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionDecl {
    /// State moved from.
    pub from: String,
    /// State moved to.
    pub to: String,
}

/// A state machine of a bin, numbered like the seed's `stateMachineNo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineDecl {
    /// The machine's number.
    pub id: u32,
    /// A readable name.
    pub name: String,
    /// Every state it can be in.
    pub states: Vec<String>,
    /// The state a new instance starts in.
    pub initial: String,
    /// Allowed moves; empty allows any move between declared states.
    pub transitions: Vec<TransitionDecl>,
}

/// What a bin declares about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Functions the bin may call.
    pub functions: Vec<FunctionDecl>,
    /// The bin's state machines.
    pub state_machines: Vec<StateMachineDecl>,
    /// Where the engine layer answers reads of variables the instance does not hold
    /// (seed 000, 4.3: the bin file's `getVarUrl` item); given at upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_var_url: Option<String>,
}

impl Manifest {
    /// Whether the bin declared `key`; calls to undeclared keys are refused.
    pub fn declares_function(&self, key: &str) -> bool {
        self.functions.iter().any(|f| f.function_key == key)
    }

    /// The state machine numbered `id`.
    pub fn machine(&self, id: u32) -> Option<&StateMachineDecl> {
        self.state_machines.iter().find(|m| m.id == id)
    }

    /// Checks the manifest is coherent; the message names the offending entry.
    pub fn validate(&self) -> Result<(), String> {
        let mut keys = HashSet::new();
        for f in &self.functions {
            if f.function_key.trim().is_empty() {
                return Err(format!("function {:?} has an empty functionKey", f.function_name));
            }
            if !keys.insert(f.function_key.as_str()) {
                return Err(format!("functionKey {:?} is declared twice", f.function_key));
            }
        }
        let mut ids = HashSet::new();
        for m in &self.state_machines {
            if !ids.insert(m.id) {
                return Err(format!("state machine {} is declared twice", m.id));
            }
            validate_machine(m)?;
        }
        Ok(())
    }
}

fn validate_machine(m: &StateMachineDecl) -> Result<(), String> {
    let known = |s: &str| m.states.iter().any(|x| x == s);
    if !known(&m.initial) {
        return Err(format!(
            "state machine {} ({:?}): initial state {:?} is not among its states",
            m.id, m.name, m.initial
        ));
    }
    for t in &m.transitions {
        for s in [&t.from, &t.to] {
            if !known(s) {
                return Err(format!("state machine {} ({:?}): transition names unknown state {s:?}", m.id, m.name));
            }
        }
    }
    Ok(())
}

impl From<wit::Manifest> for Manifest {
    fn from(m: wit::Manifest) -> Self {
        Self {
            functions: m
                .functions
                .into_iter()
                .map(|f| FunctionDecl {
                    function_key: f.function_key,
                    function_name: f.function_name,
                    params_typelist: f.params_typelist,
                    return_type: f.return_type,
                })
                .collect(),
            state_machines: m
                .state_machines
                .into_iter()
                .map(|s| StateMachineDecl {
                    id: s.id,
                    name: s.name,
                    states: s.states,
                    initial: s.initial,
                    transitions: s.transitions.into_iter().map(|t| TransitionDecl { from: t.from, to: t.to }).collect(),
                })
                .collect(),
            get_var_url: None,
        }
    }
}
