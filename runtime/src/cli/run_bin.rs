//! `cloudexec run-bin`: one instance of a bin, run once per `--vars`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::{Value as Json, json};

use super::report::{error_json, print_log, print_usage};
use super::{CliError, ExitCode, RunFlags, parse_json, read_file};
use crate::bins::parse_updates;
use crate::engine::{InstanceState, RunOptions};
use crate::local::LocalBindings;

/// Arguments of `cloudexec run-bin`.
#[derive(Debug, Args)]
pub struct RunBinArgs {
    /// The bin component (.wasm).
    pub file: PathBuf,
    /// Variable updates of one run, as a JSON object (`{"key": value}` or seed 000's
    /// `{"varList": [...]}`). Repeat for several runs on the same instance.
    #[arg(long = "vars", default_value = "{}")]
    pub vars: Vec<String>,
    /// Binds a function key to a function component: `--bind KEY=FILE.wasm`.
    #[arg(long = "bind", value_name = "KEY=FILE")]
    pub bind: Vec<String>,
    /// Limits, cache and output format.
    #[command(flatten)]
    pub flags: RunFlags,
}

pub(super) fn run(args: RunBinArgs) -> Result<ExitCode, CliError> {
    let runs = args.vars.iter().map(|v| parse_json("--vars", v)).collect::<Result<Vec<_>, _>>()?;
    let runs = runs.iter().map(|v| parse_updates(v).map_err(CliError::input)).collect::<Result<Vec<_>, _>>()?;
    let engine = args.flags.engine()?;
    let bin = engine.load_bin(&read_file(&args.file)?)?;
    let limits = args.flags.limits();
    let mut bindings = LocalBindings::new(engine.clone());
    for spec in &args.bind {
        let (key, file) =
            spec.split_once('=').ok_or_else(|| CliError::input(format!("--bind {spec:?}: expected KEY=FILE")))?;
        let module = engine.load_function(&read_file(file.as_ref())?)?;
        bindings.bind_wasm(key, module, limits);
    }
    let options = RunOptions { resolver: Some(Arc::new(bindings)), instance_id: Some("local".into()) };
    let mut state = InstanceState::new(&bin.manifest);
    let (mut log, mut peak, mut time) = (String::new(), 0, Duration::ZERO);
    let mut results = Vec::new();
    let mut code = ExitCode::Ok;
    for updates in runs {
        let run = engine.run_bin(&bin, &state, updates, options.clone(), &limits);
        log.push_str(&run.log.text);
        peak = peak.max(run.peak_memory_bytes);
        time += run.duration;
        if let Some(next) = run.state {
            state = next;
        }
        results.push(run.result.as_ref().err().map(error_json));
        if let Err(error) = &run.result {
            code = ExitCode::of(error);
            break;
        }
    }
    if args.flags.json {
        let report = json!({
            "ok": code == ExitCode::Ok, "runs": results, "state": state, "log": log,
            "peak_memory_bytes": peak, "duration_ms": time.as_secs_f64() * 1e3,
        });
        println!("{report:#}");
    } else {
        print_text(&results, &state, &log, peak, time);
    }
    Ok(code)
}

fn print_text(results: &[Option<Json>], state: &InstanceState, log: &str, peak: u64, time: Duration) {
    for (i, result) in results.iter().enumerate() {
        match result {
            None => println!("run {}: ok", i + 1),
            Some(error) => println!("run {}: error: {}", i + 1, error["message"].as_str().unwrap_or_default()),
        }
    }
    println!("variables:");
    for (key, value) in &state.variables {
        println!("  {key} = {} (type {}, len {})", value.data, value.type_code, value.len);
    }
    println!("state machines:");
    for (id, machine) in &state.machines {
        let path: Vec<&str> = machine.path.iter().map(|p| p.state.as_str()).collect();
        println!("  {id}: {} (path: {})", machine.current, path.join(" -> "));
    }
    print_log(log);
    print_usage(peak, time);
}
