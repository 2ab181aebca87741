//! A guest cannot read files, see the environment or open sockets, nor find anything an
//! earlier invocation left in memory (instance slots are reused and reset).

use serde_json::json;

use crate::support::function;

fn probe(input: serde_json::Value) -> anyhow::Result<serde_json::Value> {
    Ok(function("hostile")?.invoke(input).result?)
}

#[test]
fn a_guest_cannot_read_files() -> anyhow::Result<()> {
    let out = probe(json!({"action": "read_file"}))?;
    assert_eq!(out["ok"], json!(false), "{out}");
    Ok(())
}

#[test]
fn a_guest_sees_no_environment_or_arguments() -> anyhow::Result<()> {
    // The host has variables the guest could leak.
    assert!(std::env::var("PATH").is_ok());
    let out = probe(json!({"action": "env"}))?;
    assert_eq!(out["ok"], json!(false), "{out}");
    Ok(())
}

#[test]
fn a_guest_cannot_open_sockets() -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let out = probe(json!({"action": "socket", "addr": addr}))?;
    assert_eq!(out["ok"], json!(false), "{out}");
    assert!(out["detail"].as_str().unwrap_or_default().contains("connect: Err"), "{out}");
    Ok(())
}

#[test]
fn an_invocation_never_sees_what_an_earlier_one_left_in_memory() -> anyhow::Result<()> {
    for _ in 0..20 {
        assert_eq!(probe(json!({"action": "stash"}))?["ok"], true);
        let peek = probe(json!({"action": "peek"}))?;
        assert_eq!(peek["markers"], 0, "{peek}");
        assert!(peek["bytes_scanned"].as_u64().unwrap_or(0) > 1 << 20, "{peek}");
    }
    Ok(())
}
