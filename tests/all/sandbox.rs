//! A guest cannot read files, see the environment or open sockets.

use serde_json::json;

use crate::support::function;

fn probe(action: &str) -> anyhow::Result<serde_json::Value> {
    Ok(function("hostile")?
        .invoke(json!({"action": action}))
        .result?)
}

#[test]
fn a_guest_cannot_read_files() -> anyhow::Result<()> {
    let out = probe("read_file")?;
    assert_eq!(out["ok"], json!(false), "{out}");
    Ok(())
}

#[test]
fn a_guest_sees_no_environment_or_arguments() -> anyhow::Result<()> {
    // SAFETY-free way to make sure the host has something the guest could leak.
    assert!(std::env::var("PATH").is_ok());
    let out = probe("env")?;
    assert_eq!(out["ok"], json!(false), "{out}");
    Ok(())
}

#[test]
fn a_guest_cannot_open_sockets() -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let out = probe("socket")?;
    assert_eq!(out["ok"], json!(false), "{out}");
    drop(listener);
    Ok(())
}
