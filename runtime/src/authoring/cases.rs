//! `cloudexec test`: the cases a project file lists, run on the built component with the
//! engine the server uses (the same limits, log capture and errors).
//!
//! A function case gives an `input` and expects an `output`, or an `error` code; a bin
//! case gives `runs` of variable updates on one instance, `stubs` answering the function
//! keys it calls, and expects `vars` (a subset of the variables) and `states` (machine
//! number → current state). Either may expect a `log` line. JSON is written as text.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::engine::testing::TestRuntime;
use crate::engine::{EngineError, Limits, Plan};

/// One case of a project's `[[test]]` list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case checks (default: its number).
    pub name: Option<String>,
    /// A function's input, JSON (default `{}`).
    pub input: Option<String>,
    /// The function's expected output, JSON.
    pub output: Option<String>,
    /// The expected error code: a guest's own code, or `deadline_exceeded`, `trap`, ...
    pub error: Option<String>,
    /// Text the log must contain.
    pub log: Option<String>,
    /// A bin's runs: each the variable updates of one run, JSON.
    #[serde(default)]
    pub runs: Vec<String>,
    /// Answers of the function keys a bin calls: key → JSON result.
    #[serde(default)]
    pub stubs: BTreeMap<String, String>,
    /// Variables the instance must hold after the runs, JSON object (a subset).
    pub vars: Option<String>,
    /// Current state of each listed machine after the runs: number → state.
    #[serde(default)]
    pub states: BTreeMap<String, String>,
}

/// What became of one case.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: String,
    /// Why it failed; `None` when it passed.
    pub failure: Option<String>,
}

/// Runs every case of `cases` against the component at `wasm`, compiled through `rt`.
pub fn run_all(rt: &TestRuntime, wasm: &Path, bin: bool, cases: &[TestCase]) -> Vec<CaseOutcome> {
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let name = case.name.clone().unwrap_or_else(|| format!("case {}", i + 1));
            let failure = if bin { run_bin_case(rt, wasm, case) } else { run_function_case(rt, wasm, case) }.err();
            CaseOutcome { name, failure }
        })
        .collect()
}

fn json(what: &str, text: &str) -> Result<Json, String> {
    serde_json::from_str(text).map_err(|e| format!("{what} is not valid JSON: {e}"))
}

/// The code a case's `error` is compared with.
fn error_code(error: &EngineError) -> String {
    match error {
        EngineError::Guest { code, .. } => code.clone(),
        other => other.kind().to_owned(),
    }
}

fn run_function_case(rt: &TestRuntime, wasm: &Path, case: &TestCase) -> Result<(), String> {
    let function = rt.function(wasm).map_err(|e| e.to_string())?;
    let input = json("input", case.input.as_deref().unwrap_or("{}"))?;
    let call = function.with_limits(Limits::sync(Plan::Free)).invoke(input);
    check_log(case, &call.log.text)?;
    let (Some(output), Some(expected)) = (check_result(case, call.result)?, &case.output) else { return Ok(()) };
    let expected = json("output", expected)?;
    if output == expected { Ok(()) } else { Err(format!("output {output}, expected {expected}")) }
}

fn run_bin_case(rt: &TestRuntime, wasm: &Path, case: &TestCase) -> Result<(), String> {
    let bin = rt.bin(wasm).map_err(|e| e.to_string())?;
    let mut instance = bin.instance();
    for (key, answer) in &case.stubs {
        let answer = json(&format!("stub {key}"), answer)?;
        instance.stub(key, move |_| Ok(answer.clone()));
    }
    let mut log = String::new();
    let mut outcome: Result<(), EngineError> = Ok(());
    for (i, run) in case.runs.iter().enumerate() {
        let updates = json(&format!("run {}", i + 1), run)?;
        match instance.run(updates) {
            Ok(run) => {
                log.push_str(&run.log.text);
                if let Err(e) = run.result {
                    outcome = Err(e);
                    break;
                }
            }
            Err(e) => return Err(format!("run {}: {e}", i + 1)),
        }
    }
    check_log(case, &log)?;
    check_result(case, outcome)?;
    if let Some(expected) = &case.vars {
        let Json::Object(expected) = json("vars", expected)? else { return Err("vars must be a JSON object".into()) };
        for (key, want) in expected {
            let got = instance.var(&key);
            if got != Some(&want) {
                return Err(format!(
                    "variable {key} is {}, expected {want}",
                    got.map_or("unset".into(), Json::to_string)
                ));
            }
        }
    }
    for (machine, want) in &case.states {
        let id: u32 = machine.parse().map_err(|_| format!("states: {machine:?} is not a machine number"))?;
        let got = instance.current(id);
        if got != Some(want.as_str()) {
            return Err(format!("machine {id} is in {got:?}, expected {want:?}"));
        }
    }
    Ok(())
}

fn check_log(case: &TestCase, log: &str) -> Result<(), String> {
    match &case.log {
        Some(line) if !log.contains(line.as_str()) => Err(format!("the log lacks {line:?}; it was:\n{log}")),
        _ => Ok(()),
    }
}

/// Compares the run's outcome with the case's `error`; the value of a success that the
/// case expected.
fn check_result<T>(case: &TestCase, result: Result<T, EngineError>) -> Result<Option<T>, String> {
    match (result, &case.error) {
        (Ok(value), None) => Ok(Some(value)),
        (Ok(_), Some(code)) => Err(format!("succeeded, expected the error {code}")),
        (Err(e), Some(code)) if error_code(&e) == *code => Ok(None),
        (Err(e), _) => Err(format!("failed with {}: {e}", error_code(&e))),
    }
}
