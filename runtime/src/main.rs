//! The `cloudexec` binary.

use clap::Parser;
use cloudexec::cli::{Cli, run};

/// mimalloc, not glibc's malloc: after a Map's large transition is freed, glibc's next
/// large allocation consolidates every freed chunk of its arena first, and the request that
/// made it (a `/healthz`) waited 10-15 ms (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    quiet_on_closed_stdout();
    tracing_subscriber::fmt()
        // Warnings and errors unless RUST_LOG says otherwise: an operator hears of what
        // the server could not do for them (a hard limit of open files below its limits).
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::from(error.code as u8)
        }
    }
}

/// `cloudexec jobs hello | head -1`: when the reader closes the pipe, `println!` panics;
/// end quietly as a Unix tool does instead (exit 141, as when killed by SIGPIPE).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
