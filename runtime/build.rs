//! Builds the JavaScript runtime component (`examples/js-runtime`) for wasm32-wasip2, so
//! the binary carries it: seed 001's cloud functions are JavaScript source, run by it.
//! The build shares `target/guests` with `scripts/build-guests.sh` (one compile of the
//! engine for both). It installs the wasm32-wasip2 target with rustup when it is missing,
//! as `scripts/build-guests.sh` does, so a fresh machine needs only rustup and cargo.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("the runtime crate sits in the repository").to_path_buf();
    for watched in ["examples/js-runtime", "examples/Cargo.toml", "examples/Cargo.lock", "guest-sdk"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    install_wasm_target();
    let target_dir = root.join("target/guests");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args(["build", "--release", "--target", "wasm32-wasip2", "-p", "js-runtime", "--manifest-path"])
        .arg(root.join("examples/Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir);
    // What the outer build set for its own crates must not reach this one (clippy's
    // wrapper, flags meant for the host target).
    for var in
        ["RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "CARGO_BUILD_TARGET"]
    {
        build.env_remove(var);
    }
    let status = build.status().expect("running cargo to build the JavaScript runtime");
    assert!(
        status.success(),
        "building the JavaScript runtime (examples/js-runtime) for wasm32-wasip2 failed; \
         is the target installed? rustup target add wasm32-wasip2"
    );
    let wasm = target_dir.join("wasm32-wasip2/release/js_runtime.wasm");
    println!("cargo:rustc-env=CLOUDEXEC_JS_RUNTIME={}", wasm.display());
}

/// `rustup target add wasm32-wasip2` unless it is installed (without rustup, the build
/// below says what is missing).
fn install_wasm_target() {
    let Ok(listed) = Command::new("rustup").args(["target", "list", "--installed"]).output() else { return };
    if String::from_utf8_lossy(&listed.stdout).lines().any(|t| t.trim() == "wasm32-wasip2") {
        return;
    }
    let added = Command::new("rustup").args(["target", "add", "wasm32-wasip2"]).status();
    if !added.is_ok_and(|s| s.success()) {
        println!("cargo:warning=could not add the wasm32-wasip2 target with rustup");
    }
}
