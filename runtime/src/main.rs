//! The `cloudexec` binary.

use clap::Parser;
use cloudexec::cli::{Cli, run};

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(error.code as u8)
        }
    }
}
