//! `hostile-bin`: a misbehaving bin, used by the host's tests to show that a failed run
//! leaves no trace and that the host enforces the manifest.
//!
//! Each updated key is an instruction: `trap`, `loop`, `undeclared`, `echo`,
//! `bad_transition`, `incr` (counter += 1), `read` (reads the variable its value names,
//! which the engine layer may hold: `readValue`, `readAbsent` or `readError`) or `fail`;
//! other keys are ignored. Never deploy it.

use std::hint::black_box;

use cloudexec_sdk::{Error, FunctionDecl, Manifest, StateMachineDecl, Transition, Updates};
use cloudexec_sdk::{bin, functions, state_machine, vars};

const MANIFEST: Manifest = Manifest {
    functions: &[FunctionDecl { key: "test.echo", name: "echo", params: &["string"], returns: "string" }],
    state_machines: &[StateMachineDecl {
        id: 1,
        name: "phase",
        states: &["a", "b", "c"],
        initial: "a",
        transitions: &[Transition { from: "a", to: "b" }, Transition { from: "b", to: "c" }],
    }],
};

#[bin(manifest = MANIFEST)]
fn run(updates: Updates) -> Result<(), Error> {
    for update in &updates {
        match update.key.as_str() {
            // The misbehaviours ignore errors of the calls before them: they must happen.
            "trap" => {
                let _ = vars::set("touched", &true);
                let _ = state_machine::transition(1, "b");
                panic!("hostile bin trapped after changes");
            }
            "loop" => {
                let _ = vars::set("touched", &true);
                let mut counter = 0u64;
                loop {
                    counter = black_box(counter.wrapping_add(1));
                }
            }
            "undeclared" => {
                let message = match functions::call::<String>("not.declared", ("x",)) {
                    Ok(_) => "unexpected ok".to_owned(),
                    Err(e) => e.message,
                };
                vars::set("callError", &message)?;
            }
            "echo" => match functions::call::<String>("test.echo", (&update.value.value,)) {
                Ok(echoed) => vars::set("echoed", &echoed)?,
                Err(e) => vars::set("callError", &e.message)?,
            },
            "bad_transition" => {
                let message = |r: Result<(), Error>| r.err().map_or("unexpected ok".into(), |e| e.message);
                let errors =
                    [message(state_machine::transition(1, "c")), message(state_machine::transition(1, "nope"))];
                vars::set("transitionErrors", &errors)?;
            }
            "incr" => {
                // Read-modify-write: concurrent runs of one instance must not lose updates.
                let counter: i64 = vars::get("counter")?.unwrap_or(0);
                vars::set("counter", &(counter + 1))?;
            }
            "read" => {
                let key = update.value.value.as_str().unwrap_or_default().to_owned();
                match vars::get::<serde_json::Value>(&key) {
                    Ok(Some(value)) => vars::set("readValue", &value)?,
                    Ok(None) => vars::set("readAbsent", &key)?,
                    Err(e) => vars::set("readError", &format!("{}: {}", e.code, e.message))?,
                }
            }
            "fail" => {
                vars::set("beforeFail", &true)?;
                return Err(Error::new("BinFailed", "bin chose to fail"));
            }
            _ => {}
        }
    }
    Ok(())
}
