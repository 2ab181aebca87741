//! `cloudexec invoke`: one function invocation.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::report::{error_json, print_log, print_usage};
use super::{CliError, ExitCode, RunFlags, parse_json, read_file};

/// Arguments of `cloudexec invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function component (.wasm).
    pub file: PathBuf,
    /// The input, as JSON.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// Limits, cache and output format.
    #[command(flatten)]
    pub flags: RunFlags,
}

pub(super) fn run(args: InvokeArgs) -> Result<ExitCode, CliError> {
    let input = parse_json("--input", &args.input)?;
    let bytes = read_file(&args.file)?;
    let engine = args.flags.engine()?;
    let module = engine.load_function(&bytes)?;
    let inv = engine.invoke(&module, &input, &args.flags.limits());
    let code = inv.result.as_ref().err().map_or(ExitCode::Ok, ExitCode::of);
    if args.flags.json {
        let report = json!({
            "ok": inv.result.is_ok(),
            "output": inv.result.as_ref().ok(),
            "error": inv.result.as_ref().err().map(error_json),
            "log": inv.log.text,
            "peak_memory_bytes": inv.peak_memory_bytes,
            "duration_ms": inv.duration.as_secs_f64() * 1e3,
        });
        println!("{report:#}");
    } else {
        match &inv.result {
            Ok(output) => println!("output: {output}"),
            Err(error) => println!("error: {error}"),
        }
        print_log(&inv.log.text);
        print_usage(inv.peak_memory_bytes, inv.duration);
    }
    Ok(code)
}
