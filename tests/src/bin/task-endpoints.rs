//! Serves the flow tests' HTTP task endpoints on a fixed address, for trying the example
//! flows by hand: `cargo run -p cloudexec-tests --bin task-endpoints -- 127.0.0.1:9400`.

fn main() -> anyhow::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9400".into());
    let endpoints = cloudexec_tests::endpoints::Endpoints::start_on(&addr)?;
    println!(
        "task endpoints on {}: /flaky/{{key}}?fail_times=N, /fail, /slow/{{key}}?ms=N, /async, /echo",
        endpoints.base
    );
    loop {
        std::thread::park();
    }
}
