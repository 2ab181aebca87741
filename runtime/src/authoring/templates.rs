//! The files `cloudexec new` writes, per language and kind. Each project greets (a
//! function) or counts (a bin) and lists the cases `cloudexec test` checks, so it builds
//! and passes as it is. `@NAME@`, `@CRATE@`, `@LANG@` and `@SDK@` are filled in.

use super::{Kind, Lang};

/// The files of a new project: (relative path, template).
pub fn files(lang: Lang, kind: Kind) -> &'static [(&'static str, &'static str)] {
    match (lang, kind) {
        (Lang::Rust, Kind::Function) => &[
            ("cloudexec.toml", FUNCTION_TOML),
            ("Cargo.toml", RUST_CARGO),
            ("src/lib.rs", RUST_FUNCTION),
            (".gitignore", GITIGNORE),
        ],
        (Lang::Rust, Kind::Bin) => &[
            ("cloudexec.toml", BIN_TOML),
            ("Cargo.toml", RUST_CARGO),
            ("src/lib.rs", RUST_BIN),
            (".gitignore", GITIGNORE),
        ],
        (Lang::Python, Kind::Function) => {
            &[("cloudexec.toml", FUNCTION_TOML), ("app.py", PYTHON_FUNCTION), (".gitignore", GITIGNORE)]
        }
        (Lang::Python, Kind::Bin) => &[("cloudexec.toml", BIN_TOML), ("app.py", PYTHON_BIN), (".gitignore", GITIGNORE)],
        (Lang::Js, Kind::Function) => {
            &[("cloudexec.toml", FUNCTION_TOML), ("app.js", JS_FUNCTION), (".gitignore", GITIGNORE)]
        }
        (Lang::Js, Kind::Bin) => &[("cloudexec.toml", BIN_TOML), ("app.js", JS_BIN), (".gitignore", GITIGNORE)],
    }
}

const GITIGNORE: &str = "target/\n__pycache__/\nnode_modules/\n";

const FUNCTION_TOML: &str = r#"# cloudexec project: `cloudexec build`, `cloudexec test`, `cloudexec deploy`.
name = "@NAME@"
lang = "@LANG@"
kind = "function"

[[test]]
name = "greets by name"
input = '{"name": "Ada"}'
output = '{"greeting": "Hello, Ada!"}'
log = "greeting Ada"

[[test]]
name = "greets the world without a name"
input = '{}'
output = '{"greeting": "Hello, world!"}'

[[test]]
name = "refuses a name that is not text"
input = '{"name": 7}'
error = "InvalidArgument"
"#;

const BIN_TOML: &str = r#"# cloudexec project: `cloudexec build`, `cloudexec test`, `cloudexec bin upload`.
name = "@NAME@"
lang = "@LANG@"
kind = "bin"

[[test]]
name = "adds up and starts counting"
runs = ['{"add": 2}', '{"add": 3}']
vars = '{"count": 5}'
states = { "1" = "counting" }
log = "count is 5"

[[test]]
name = "stops at the limit"
runs = ['{"add": 11}']
vars = '{"count": 11}'
states = { "1" = "full" }
"#;

const RUST_CARGO: &str = r#"[package]
name = "@NAME@"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
name = "@CRATE@"
crate-type = ["cdylib"]

[dependencies]
cloudexec-sdk = { path = "@SDK@" }
serde = { version = "1", features = ["derive"] }

[profile.release]
opt-level = "s"
strip = "debuginfo"

# A project of its own, even inside another workspace.
[workspace]
"#;

const RUST_FUNCTION: &str = r#"//! `@NAME@`: `{"name": "Ada"}` -> `{"greeting": "Hello, Ada!"}`.

use cloudexec_sdk::{Error, function, info};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Greeting {
    name: Option<String>,
}

#[derive(Serialize)]
struct Reply {
    greeting: String,
}

#[function]
fn handle(input: Greeting) -> Result<Reply, Error> {
    let name = input.name.unwrap_or_else(|| "world".to_owned());
    info!("greeting {name}");
    Ok(Reply { greeting: format!("Hello, {name}!") })
}
"#;

const RUST_BIN: &str = r#"//! `@NAME@`: adds each run's `add` to the variable `count`; machine 1 goes from `idle`
//! to `counting`, and to `full` past 10.

use cloudexec_sdk::{Error, Manifest, StateMachineDecl, Transition, Updates};
use cloudexec_sdk::{bin, info, state_machine, vars};

const MANIFEST: Manifest = Manifest {
    functions: &[],
    state_machines: &[StateMachineDecl {
        id: 1,
        name: "counter",
        states: &["idle", "counting", "full"],
        initial: "idle",
        transitions: &[
            Transition { from: "idle", to: "counting" },
            Transition { from: "idle", to: "full" },
            Transition { from: "counting", to: "full" },
        ],
    }],
};

#[bin(manifest = MANIFEST)]
fn run(updates: Updates) -> Result<(), Error> {
    let Some(add) = updates.get::<i64>("add")? else { return Ok(()) };
    let count = vars::get::<i64>("count")?.unwrap_or(0) + add;
    vars::set("count", &count)?;
    info!("count is {count}");
    let next = if count > 10 { "full" } else { "counting" };
    if state_machine::current(1).as_deref() != Some(next) {
        state_machine::transition(1, next)?;
    }
    Ok(())
}
"#;

const PYTHON_FUNCTION: &str = r#""""`@NAME@`: `{"name": "Ada"}` -> `{"greeting": "Hello, Ada!"}`."""

from cloudexec import Error, function, log


@function
def handle(input: dict) -> dict:
    name = input.get("name") or "world"
    if not isinstance(name, str):
        raise Error("InvalidArgument", "name must be text")
    log.info(f"greeting {name}")
    return {"greeting": f"Hello, {name}!"}
"#;

const PYTHON_BIN: &str = r#""""`@NAME@`: adds each run's `add` to the variable `count`; machine 1 goes from
`idle` to `counting`, and to `full` past 10."""

from cloudexec import Manifest, StateMachineDecl, Transition, Updates, bin, log, state_machine, vars

MANIFEST = Manifest(
    state_machines=[
        StateMachineDecl(
            1,
            "counter",
            ["idle", "counting", "full"],
            "idle",
            [Transition("idle", "counting"), Transition("idle", "full"), Transition("counting", "full")],
        )
    ]
)


@bin(MANIFEST)
def run(updates: Updates) -> None:
    add = updates.get("add")
    if add is None:
        return
    count = vars.get("count", 0) + add
    vars.set("count", count)
    log.info(f"count is {count}")
    next_state = "full" if count > 10 else "counting"
    if state_machine.current(1) != next_state:
        state_machine.transition(1, next_state)
"#;

const JS_FUNCTION: &str = r#"// `@NAME@`: `{"name": "Ada"}` -> `{"greeting": "Hello, Ada!"}`.

import { CloudexecError, log } from 'cloudexec';

export function handle(input) {
  const name = input.name ?? 'world';
  if (typeof name !== 'string') {
    throw new CloudexecError('InvalidArgument', 'name must be text');
  }
  log.info(`greeting ${name}`);
  return { greeting: `Hello, ${name}!` };
}
"#;

const JS_BIN: &str = r#"// `@NAME@`: adds each run's `add` to the variable `count`; machine 1 goes from `idle`
// to `counting`, and to `full` past 10.

import { log, stateMachine, vars } from 'cloudexec';

export const manifest = {
  stateMachines: [
    {
      id: 1,
      name: 'counter',
      states: ['idle', 'counting', 'full'],
      initial: 'idle',
      transitions: [['idle', 'counting'], ['idle', 'full'], ['counting', 'full']],
    },
  ],
};

export function run(updates) {
  const add = updates.get('add');
  if (add === null) return;
  const count = vars.get('count', 0) + add;
  vars.set('count', count);
  log.info(`count is ${count}`);
  const next = count > 10 ? 'full' : 'counting';
  if (stateMachine.current(1) !== next) {
    stateMachine.transition(1, next);
  }
}
"#;
